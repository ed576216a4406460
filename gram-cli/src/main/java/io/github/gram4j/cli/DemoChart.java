package io.github.gram4j.cli;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** {@code gram demo --plot}: training loss and test R@1 against the step, both methods, side by side. */
final class DemoChart {

    private static final Color GRAM = new Color(31, 119, 180);
    private static final Color COSINE = new Color(214, 39, 40);
    private static final Color TRIANGLE = new Color(44, 160, 44);

    private DemoChart() {
    }

    /** Steps and losses averaged over consecutive windows of {@code window} steps (x: the window's last step). */
    static double[][] windowMeans(List<DemoCommand.StepRecord> rows, int window) {
        int n = (rows.size() + window - 1) / window;
        double[][] xy = new double[2][n];
        for (int w = 0; w < n; w++) {
            int from = w * window;
            int to = Math.min(rows.size(), from + window);
            double sum = 0;
            for (int r = from; r < to; r++) {
                sum += rows.get(r).loss();
            }
            xy[0][w] = rows.get(to - 1).step();
            xy[1][w] = sum / (to - from);
        }
        return xy;
    }

    /** Both charts side by side as one {@code width × height} image. */
    static BufferedImage image(List<DemoCommand.StepRecord> records, int width, int height) {
        int half = width / 2;
        XYChart loss = new XYChartBuilder().width(half).height(height).title("training loss")
                .xAxisTitle("step").yAxisTitle("loss").build();
        XYChart recall = new XYChartBuilder().width(width - half).height(height).title("test R@1, text -> others")
                .xAxisTitle("step").yAxisTitle("R@1 (%)").build();
        double lastStep = records.stream().mapToDouble(DemoCommand.StepRecord::step).max().orElse(1);
        for (XYChart chart : List.of(loss, recall)) {
            chart.getStyler().setXAxisMin(0.0);
            chart.getStyler().setXAxisMax(lastStep);
            chart.getStyler().setXAxisDecimalPattern("#");
        }
        for (String method : List.of("GRAM", "cosine", "TRIANGLE")) {
            List<DemoCommand.StepRecord> rows = records.stream().filter(r -> r.method().equals(method)).toList();
            if (rows.isEmpty()) {
                continue;
            }
            Color color = method.equals("GRAM") ? GRAM : method.equals("cosine") ? COSINE : TRIANGLE;
            double[][] smoothed = windowMeans(rows, Math.max(1, rows.size() / 60));
            XYSeries l = loss.addSeries(method, smoothed[0], smoothed[1]);
            l.setMarker(SeriesMarkers.NONE);
            l.setLineColor(color);
            List<DemoCommand.StepRecord> evaluated = rows.stream().filter(r -> !Double.isNaN(r.r1())).toList();
            XYSeries r = recall.addSeries(method, evaluated.stream().mapToDouble(DemoCommand.StepRecord::step).toArray(),
                    evaluated.stream().mapToDouble(DemoCommand.StepRecord::r1).toArray());
            r.setMarker(SeriesMarkers.CIRCLE);
            r.setLineColor(color);
            r.setMarkerColor(color);
        }
        loss.setTitle(loss.getTitle() + (records.size() > 120 ? " (window means)" : ""));
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.drawImage(BitmapEncoder.getBufferedImage(loss), 0, 0, null);
            g.drawImage(BitmapEncoder.getBufferedImage(recall), half, 0, null);
        } finally {
            g.dispose();
        }
        return image;
    }
}
