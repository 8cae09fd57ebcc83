# Session 10's ladder chart: TFLOP/s of each rung at 4096^3 on one axis, session 06's two rungs,
# session 10's GEMM rungs 03-06 and cuBLAS, from ladder-hopper.dat (the H200 run of 2026-11-29).
# Same look as grader/plot-bench.sh's charts (1100 x 560, sans 12, key outside the plot).
#   cd handouts/figures && gnuplot ladder-hopper.gp     writes ladder-hopper.png and ladder-hopper.svg
# cuBLAS's bar stands at the middle of the range it ran at across that run's timings (755-782),
# and the range is drawn on it as an error bar.
set encoding utf8
data = "ladder-hopper.dat"
peak = 989.4   # dense BF16 datasheet peak of the H200 (the H100 SXM's: 132 SMs at the same clocks)
colour(g) = g == 1 ? 0x9400d3 : (g == 2 ? 0x009e73 : 0xe69f00)

do for [kind in "png svg"] {
    if (kind eq "png") {
        set terminal pngcairo size 1100,560 font 'sans,12' noenhanced
    } else {
        set terminal svg size 1100,560 font 'sans,12' noenhanced
    }
    set output "ladder-hopper." . kind
    set title "BF16 GEMM at 4096³ on NVIDIA H200, 2026-11-29 (make bench medians, cuBLAS in the same run)" noenhanced
    set ylabel "TFLOP/s"
    set yrange [0:1100]
    set xrange [-0.6:6.6]
    set grid ytics
    set style fill solid 0.85 border -1
    set boxwidth 0.7
    set key outside right top vertical Left reverse noenhanced samplen 2 spacing 1.3
    set bmargin 8
    set xtics rotate by -25 noenhanced nomirror
    set datafile separator "\t"
    plot data using 0:2:(colour($5)):xtic(1) with boxes lc rgb variable notitle, \
         data using 0:($5 == 3 ? $2 : NaN):3:4 with yerrorbars lc rgb "black" lw 1.5 pt 7 ps 0 notitle, \
         data using 0:4:6 with labels offset 0,0.9 notitle, \
         peak with lines dt 2 lw 1.5 lc rgb "#555555" title "dense BF16 peak, 989.4", \
         keyentry with boxes lc rgb "#9400d3" title "session 06 (mma.sync era)", \
         keyentry with boxes lc rgb "#009e73" title "session 10 (TMA, wgmma)", \
         keyentry with boxes lc rgb "#e69f00" title "cuBLAS, same runs"
    unset output
}
