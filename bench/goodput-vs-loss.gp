# Goodput against loss, from bench/transfer.sh's points ("link loss whohas
# tcp" per line), TCP's congestion control named by ALGORITHM:
# gnuplot -e "points='FILE'; output='PNG'; tcp='ALGORITHM'" goodput-vs-loss.gp
set terminal pngcairo size 900,540 font "sans,11"
set output output
set title "Reliable transfer, 1500-byte frames: whohas send --file vs TCP (iperf3, ".tcp.")"
set xlabel "random loss on each end of the link, each way (%)"
set ylabel "goodput (MB/s, median)"
set key top right
set grid
set yrange [0:*]
set xrange [0:*]
set style data linespoints
base = 0
plot points using (strcol(1) eq "pair" ? $2 : NaN):3 title "whohas, veth pair" lw 2 pt 7 lc rgb "#1f77b4", \
     points using (strcol(1) eq "pair" ? $2 : NaN):4 title "TCP, veth pair" lw 2 pt 5 lc rgb "#d62728", \
     points using (strcol(1) eq "bridge" ? $2 : NaN):3 title "whohas, bridge" lw 1 dt 2 pt 6 lc rgb "#1f77b4", \
     points using (strcol(1) eq "bridge" ? $2 : NaN):4 title "TCP, bridge" lw 1 dt 2 pt 4 lc rgb "#d62728", \
     points using (strcol(1) eq "pair" ? $2 : NaN):(strcol(1) eq "pair" && $2 == 0 ? (base = $3) : (1 - $2 / 100.0) * base) \
        title "(1 - p) x whohas at 0 %, veth pair" lw 1 dt 3 pt -1 lc rgb "#7f7f7f"
