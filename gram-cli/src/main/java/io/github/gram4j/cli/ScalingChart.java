package io.github.gram4j.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** {@code gram bench --plot}: median time and GEMM floor against B, log-log, as a PNG (XChart). */
final class ScalingChart {

    static final int WIDTH = 900;
    static final int HEIGHT = 600;

    private ScalingChart() {
    }

    /** Writes the chart as a PNG ({@link #WIDTH} × {@link #HEIGHT}) to {@code target}. */
    static void write(List<BenchCommand.Result> results, int dim, int k, String dtype, Path target) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title(String.format("gram4j: time against batch size (d = %d, k = %d, %s)", dim, k, dtype))
                .xAxisTitle("batch size B").yAxisTitle("milliseconds").build();
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNW);
        Color[] palette = {new Color(31, 119, 180), new Color(214, 39, 40), new Color(44, 160, 44)};
        for (BenchCommand.Op op : BenchCommand.Op.values()) {
            Color color = palette[op.ordinal() % palette.length];
            List<BenchCommand.Result> rows = results.stream().filter(r -> r.op() == op).toList();
            if (rows.isEmpty()) {
                continue;
            }
            double[] b = rows.stream().mapToDouble(BenchCommand.Result::batch).toArray();
            XYSeries median = chart.addSeries(op.label + " (median)", b,
                    rows.stream().mapToDouble(BenchCommand.Result::medianMs).toArray());
            median.setMarker(SeriesMarkers.CIRCLE);
            median.setLineColor(color);
            median.setMarkerColor(color);
            XYSeries floor = chart.addSeries(op.label + " GEMM floor", b,
                    rows.stream().mapToDouble(BenchCommand.Result::floorMs).toArray());
            floor.setMarker(SeriesMarkers.NONE);
            floor.setLineColor(color);
            floor.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                    new float[] {6f, 4f}, 0f));
        }
        AtomicFiles.writePng(target, BitmapEncoder.getBufferedImage(chart));
    }
}
