/* A session's check: the command line, one child per exercise (child.c), the table, and the
 * records, written by this process, which runs no student code. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "rng.h"

static void usage(const char *prog) {
    fprintf(stderr, "usage: %s [--seed N] [--results FILE | --results-fd N] [--only EXERCISE [--exact]] [--roofs DIR] [--small] "
            "[--bench] [--leaderboard] [--solution] [--time-limit S] [--cpu-only] [--not-built NAME[=LOG]] [--list]\n", prog);
}

static bool parse_options(int argc, char **argv, gr_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->time_limit_s = 120;
    opt->results_fd = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--seed") && v) { char *end; opt->seed = strtoull(v, &end, 0); opt->seed_given = true; i++;
            if (*end) { fprintf(stderr, "check: --seed takes a number, got '%s'\n", v); return false; } }
        else if (!strcmp(a, "--results") && v) { opt->results_path = v; i++; }
        else if (!strcmp(a, "--results-fd") && v) { char *end; long fd = strtol(v, &end, 10); i++;
            if (*end || fd < 3 || fd > 1000 || fcntl((int)fd, F_GETFD) < 0) {
                fprintf(stderr, "check: --results-fd takes an open descriptor above 2, got '%s'\n", v); return false; }
            opt->results_fd = (int)fd; }
        else if (!strcmp(a, "--only") && v) { opt->only = v; i++; }
        else if (!strcmp(a, "--roofs") && v) { opt->roofs_dir = v; i++; }
        else if (!strcmp(a, "--time-limit") && v) { opt->time_limit_s = atoi(v); i++;
            if (opt->time_limit_s < 1 || opt->time_limit_s > 3600) { fprintf(stderr, "check: --time-limit must be 1..3600 seconds\n"); return false; } }
        else if (!strcmp(a, "--not-built") && v) { i++;
            if (opt->n_not_built == GR_MAX_NOT_BUILT) { fprintf(stderr, "check: too many --not-built\n"); return false; }
            opt->not_built[opt->n_not_built++] = v; }
        else if (!strcmp(a, "--cpu-only")) opt->cpu_only = true;
        else if (!strcmp(a, "--exact")) opt->only_exact = true;
        else if (!strcmp(a, "--small")) opt->small = true;
        else if (!strcmp(a, "--bench")) opt->bench = true;
        else if (!strcmp(a, "--leaderboard")) opt->leaderboard = true;
        else if (!strcmp(a, "--solution")) opt->solution = true;
        else if (!strcmp(a, "--list")) opt->list = true;
        else { usage(argv[0]); return false; }
    }
    /* SEED from the environment is a student's replay; grading takes its seed from the kernel alone
     * (an environment is something code under test could have set). */
    const char *env_seed = getenv("SEED");
    if (!opt->seed_given && !opt->leaderboard && env_seed && *env_seed) {
        char *end;
        opt->seed = strtoull(env_seed, &end, 0);
        if (*end) { fprintf(stderr, "check: SEED takes a number, got '%s'\n", env_seed); return false; }
        opt->seed_given = true;
    }
    if (!opt->seed_given) opt->seed = opt->leaderboard ? gr_secret_seed() & 0xFFFFFFFFFFull : gr_fresh_seed();
    if (opt->results_path && opt->results_fd >= 0) { fprintf(stderr, "check: --results and --results-fd exclude each other\n"); return false; }
    return true;
}

/* An exercise whose file did not build: COMPILE_ERROR with the compiler's first error lines, or
 * the file is missing (no log) and the message says how to get it back. */
static bool not_built(const gr_options *opt, const char *session, const char *name, gr_result *res) {
    size_t stem = strcspn(name, "+");
    for (int i = 0; i < opt->n_not_built; i++) {
        const char *entry = opt->not_built[i], *eq = strchr(entry, '=');
        size_t len = eq ? (size_t)(eq - entry) : strlen(entry);
        if (len != stem || strncmp(entry, name, len)) continue;
        memset(res, 0, sizeof *res);
        res->verdict = GR_COMPILE_ERROR;
        if (!eq) {
            snprintf(res->message, sizeof res->message, "%s/%.*s.cu is missing: get the skeleton back with 'git "
                     "checkout -- %s/%.*s.cu', or from the bundle you were given", session, (int)len, name, session,
                     (int)len, name);
        } else {
            char lines[600] = "", line[300];
            FILE *log = fopen(eq + 1, "r");
            int kept = 0;
            while (log && kept < 3 && fgets(line, sizeof line, log))
                if (strstr(line, "error")) { line[strcspn(line, "\n")] = 0; snprintf(lines + strlen(lines), sizeof lines - strlen(lines), "%s%s", kept++ ? " | " : "", line); }
            if (log) fclose(log);
            snprintf(res->message, sizeof res->message, "%s/%.*s.cu does not compile: %s (the whole output: %s)", session,
                     (int)len, name, kept ? lines : "see the compiler's output", eq + 1);
        }
        return true;
    }
    return false;
}

/* --only NAME picks the exercise NAME and its timing variants "NAME+variant" (same file, another
 * shape: 02_flash_mma+causal); with --exact, NAME alone (make profile counts one exercise's launches). */
bool gr_exercise_selected(const char *only, bool exact, const char *name) {
    size_t n = strlen(only);
    return !strncmp(only, name, n) && (name[n] == 0 || (!exact && name[n] == '+'));
}

int gr_run_session(int argc, char **argv, const char *session, const gr_exercise *exercises, int n) {
    gr_options opt;
    if (!parse_options(argc, argv, &opt)) return 64;
    if (opt.list) {  /* for scripts: one exercise a line, and where it runs */
        for (int i = 0; i < n; i++)
            printf("%s %s%s\n", exercises[i].name, exercises[i].on_host ? "cpu" : "gpu", exercises[i].given ? " given" : "");
        return 0;
    }
    gr_runner R;
    memset(&R, 0, sizeof R);
    R.opt = &opt;
    gr_grading_mode = opt.leaderboard;
    gr_confine_parent(gr_grading_mode);

    bool needs_gpu = false, found = false, any = false;
    for (int i = 0; i < n; i++) {
        if (opt.only && !gr_exercise_selected(opt.only, opt.only_exact, exercises[i].name)) continue;
        found = true;
        gr_result unused;
        bool broken = not_built(&opt, session, exercises[i].name, &unused);
        if (opt.cpu_only && !exercises[i].on_host && !broken) continue;
        any = true;
        needs_gpu |= !exercises[i].on_host && !broken;
    }
    if (!found) { fprintf(stderr, "check: no exercise named '%s' in %s\n", opt.only, session); return 64; }
    if (!any) return 0;   /* --cpu-only and nothing runs on the CPU here: nothing to say */

    gr_gpu gpu;
    gr_result no_gpu;
    bool have_gpu = needs_gpu && gr_probe_gpu(&opt, &gpu, &no_gpu);
    gr_report_header(session, have_gpu ? &gpu : NULL, &opt);

    gr_result *res = calloc((size_t)n, sizeof *res);
    gr_exercise *ran = calloc((size_t)n, sizeof *ran);
    int n_ran = 0, n_pass = 0;
    bool env_problem = false;
    for (int i = 0; i < n; i++) {
        if (opt.only && !gr_exercise_selected(opt.only, opt.only_exact, exercises[i].name)) continue;
        if (not_built(&opt, session, exercises[i].name, &res[n_ran])) {
            say("-- %s: %s\n   %s  %s\n", exercises[i].name, exercises[i].what, gr_verdict_name(res[n_ran].verdict), res[n_ran].message);
        } else if (opt.cpu_only && !exercises[i].on_host) {
            continue;
        } else if (exercises[i].needs_arch && strcmp(exercises[i].needs_arch, GR_BUILD_ARCH) != 0) {
            memset(&res[n_ran], 0, sizeof res[n_ran]);
            res[n_ran].verdict = GR_NEEDS_ARCH;
            snprintf(res[n_ran].message, sizeof res[n_ran].message, "its kernels exist for %s only, this build is for %s: "
                     "make check ARCH=%s on such a GPU", exercises[i].needs_arch, GR_BUILD_ARCH, exercises[i].needs_arch);
            say("-- %s: %s\n   %s  %s\n", exercises[i].name, exercises[i].what, gr_verdict_name(res[n_ran].verdict), res[n_ran].message);
        } else if (!exercises[i].on_host && !have_gpu) {
            res[n_ran] = no_gpu;
            env_problem = true;
        } else {
            gr_run_in_child(&R, &exercises[i], have_gpu ? &gpu : NULL, &res[n_ran]);
        }
        res[n_ran].given = exercises[i].given;
        if (res[n_ran].verdict == GR_PASS) n_pass++;
        ran[n_ran++] = exercises[i];
    }
    gr_report_table(session, ran, res, n_ran);
    if (env_problem) printf("\n%s\n", no_gpu.message);
    printf("\n   %s: %d of %d exercises pass\n", session, n_pass, n_ran);

    /* The records are written here, by the process that ran no student code, after every child
     * (and anything a child left behind) is gone. */
    if (opt.results_path || opt.results_fd >= 0) {
        FILE *f = opt.results_fd >= 0 ? fdopen(opt.results_fd, "a") : fopen(opt.results_path, "a");
        if (!f) { fprintf(stderr, "check: cannot append to %s: %s\n", opt.results_path ? opt.results_path : "the results descriptor", strerror(errno)); return 74; }
        for (int i = 0; i < n_ran; i++) gr_report_json(f, session, ran[i].name, &opt, &res[i]);
        if (fclose(f) != 0) { fprintf(stderr, "check: writing the results failed\n"); return 74; }
    }
    /* 0: all pass; 1: something failed; 2: only the machine was wrong (no GPU, other architecture). */
    bool real_failure = false;
    for (int i = 0; i < n_ran; i++)
        real_failure |= res[i].verdict != GR_PASS && !gr_verdict_is_machine(res[i].verdict);
    free(res);
    free(ran);
    return real_failure ? 1 : env_problem ? 2 : 0;
}

int gr_main(int argc, char **argv, const char *session, const gr_exercise *exercises, int n) {
    int status = gr_run_session(argc, argv, session, exercises, n);
    /* _exit, not return: no destructor or atexit handler runs in this process after the records
     * are written, whatever object registered it. */
    fflush(stdout);
    fflush(stderr);
    _exit(status);
}
