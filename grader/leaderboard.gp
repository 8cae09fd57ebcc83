# The leaderboard's charts, drawn by 'leaderboard' (grader/tools/leaderboard.c) in its output folder:
#   gnuplot -e "kind='rank'; dat='rank-S.dat'; png='rank-S.png'; ttl='S'" grader/leaderboard.gp
#   kind='rank':   columns rank, student, geometric mean % of peak, passed, ranked exercises
#   kind='spread': columns index, exercise, min, median, max % of peak, passing students
set terminal pngcairo size 960,540 font ",11" noenhanced
set output png
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set yrange [0:*]
set ylabel "% of peak"
set key off
if (kind eq 'rank') {
    set title ttl.": ranking by exercises passed, then by geometric mean of % of peak over those passed"
    set style fill solid 0.8 border -1
    set boxwidth 0.6
    set xtics rotate by -30 left
    set offsets 0.5, 0.5, graph 0.1, 0
    plot dat using 1:3:xtic(sprintf("%d. %s", $1, strcol(2))) with boxes lc rgb "#3b75af", \
         dat using 1:3:(sprintf("%.1f%% (%d/%d)", $3, $4, $5)) with labels offset 0,0.8 font ",10"
} else {
    set title ttl.": class spread per exercise (min, median, max % of peak over passing students)"
    set xtics rotate by -30 left
    set offsets 0.5, 0.5, graph 0.1, 0
    set bars 4
    plot dat using 1:4:3:5:xtic(2) with yerrorbars pt 7 ps 1.2 lc rgb "#c4461d", \
         dat using 1:5:(sprintf("n=%d", $6)) with labels offset 0,0.8 font ",9"
}
