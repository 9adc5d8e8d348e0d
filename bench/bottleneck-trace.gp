# One whohas transfer and one TCP flow through a bottleneck, second by
# second, from bench/bottleneck-trace.sh's points (per line: run, second,
# whohas MB/s, TCP MB/s, TCP cwnd, TCP least round trip ms, drains due,
# drains joined, competing by loss (1); runs apart by two blank lines):
# gnuplot -e "points='FILE'; output='PNG'; tcp='ALGORITHM'; rate='RATE'; runs=N" bottleneck-trace.gp
set terminal pngcairo size 1000,(260 * runs + 60) font "sans,10"
set output output
set multiplot layout runs,1 title "whohas send --file and TCP (".tcp.") at once through a ".rate." queue, per second"
set grid
set xrange [0:*]
# Room above the fastest second of either flow for the key, whatever the
# link's rate.
stats points using 3:4 nooutput
top = 1.45 * (STATS_max_x > STATS_max_y ? STATS_max_x : STATS_max_y)
set yrange [0:top]
set ylabel "MB/s"
set y2label "TCP's least round trip, ms"
set logscale y2
set y2range [0.005:20]
set y2tics
set ytics nomirror
set key top center horizontal maxrows 1 samplen 2 noenhanced
set style data lines
set boxwidth 1.15
do for [run = 0:runs - 1] {
    if (run == runs - 1) { set xlabel "seconds since both started" }
    plot points index run using 2:($9 > 0 ? top : NaN) with boxes fs transparent solid 0.15 noborder \
            lc rgb "#ff7f0e" title "whohas competing by loss", \
         points index run using 2:3 title "whohas" lw 2 lc rgb "#1f77b4", \
         points index run using 2:4 title "TCP" lw 2 lc rgb "#d62728", \
         points index run using 2:($7 > 0 ? 0.6 : NaN) with points pt 9 ps 1.3 lc rgb "#1f77b4" title "whohas drains (due)", \
         points index run using 2:($8 > 0 ? 0.6 : NaN) with points pt 8 ps 1.3 lc rgb "#2ca02c" title "whohas joins a drain", \
         points index run using 2:6 axes x1y2 title "TCP's least round trip" lw 1 dt 2 lc rgb "#7f7f7f"
}
unset multiplot
