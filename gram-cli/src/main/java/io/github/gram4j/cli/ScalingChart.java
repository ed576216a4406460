package io.github.gram4j.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Locale;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * {@code gram bench --plot}: median time and GEMM floor against B, log-log, as a PNG (XChart).
 *
 * <p>XChart's logarithmic axes label powers of ten only, so a run over {@code --batch 256,512} had
 * no x labels at all. Here both axes are linear in the logarithm (x = log2 B, y = log10 ms) and
 * every tick is labelled with its value in the data's units: the x ticks sit at the measured batch
 * sizes (256, 512, …), the y ticks wherever XChart puts them, labelled in milliseconds.
 */
final class ScalingChart {

    static final int WIDTH = 900;
    static final int HEIGHT = 600;
    /** A lower bound of the PNG's size, for the free-space check. */
    static final long MIN_BYTES = 16 * 1024;

    private ScalingChart() {
    }

    /** The chart as an image ({@link #WIDTH} × {@link #HEIGHT}). */
    static BufferedImage image(List<BenchCommand.Result> results, int dim, int k, String dtype) {
        return BitmapEncoder.getBufferedImage(chart(results, dim, k, dtype));
    }

    static XYChart chart(List<BenchCommand.Result> results, int dim, int k, String dtype) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title(String.format(Locale.ROOT, "gram4j: time against batch size (d = %d, k = %d, %s)", dim, k, dtype))
                .xAxisTitle("batch size B (log scale)").yAxisTitle("milliseconds (log scale)").build();
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNW);
        chart.setCustomXAxisTickLabelsFormatter(ScalingChart::batchLabel);
        chart.setCustomYAxisTickLabelsFormatter(ScalingChart::millisecondsLabel);
        Color[] palette = {new Color(31, 119, 180), new Color(214, 39, 40), new Color(44, 160, 44)};
        for (BenchCommand.Op op : BenchCommand.Op.values()) {
            Color color = palette[op.ordinal() % palette.length];
            List<BenchCommand.Result> rows = results.stream().filter(r -> r.op() == op).toList();
            if (rows.isEmpty()) {
                continue;
            }
            double[] b = rows.stream().mapToDouble(r -> log2(r.batch())).toArray();
            XYSeries median = chart.addSeries(op.label + " (median)", b,
                    rows.stream().mapToDouble(r -> Math.log10(r.medianMs())).toArray());
            median.setMarker(SeriesMarkers.CIRCLE);
            median.setLineColor(color);
            median.setMarkerColor(color);
            XYSeries floor = chart.addSeries(op.label + " GEMM floor", b,
                    rows.stream().mapToDouble(r -> Math.log10(r.floorMs())).toArray());
            floor.setMarker(SeriesMarkers.NONE);
            floor.setLineColor(color);
            floor.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                    new float[] {6f, 4f}, 0f));
        }
        return chart;
    }

    static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }

    /** The batch size at {@code x = log2 B}: {@code 256}, {@code 512}, … (rounded to an integer). */
    static String batchLabel(double x) {
        return Long.toString(Math.round(Math.pow(2, x)));
    }

    /** The time at {@code y = log10 ms}, three significant digits: {@code 0.125}, {@code 2.51}, {@code 1260}. */
    static String millisecondsLabel(double y) {
        double ms = Math.pow(10, y);
        return ms >= 100 ? Long.toString(Math.round(ms)) : new java.math.BigDecimal(ms)
                .round(new java.math.MathContext(3)).stripTrailingZeros().toPlainString();
    }
}
