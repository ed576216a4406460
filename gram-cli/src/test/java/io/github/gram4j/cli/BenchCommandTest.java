package io.github.gram4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class BenchCommandTest {

    @Test
    void jsonHasOneObjectPerOperationWithConsistentTimings() throws Exception {
        CliRun run = CliRun.of("bench", "--batch", "32", "--dim", "8", "--k", "3", "--repeats", "3", "--warmup", "0",
                "--json");
        assertEquals(0, run.exitCode(), run::describe);
        assertEquals("", run.err(), run::describe);
        List<String> lines = run.out().lines().toList();
        assertEquals(3, lines.size(), run::describe);
        ObjectMapper mapper = new ObjectMapper();
        List<String> ops = List.of("volume", "loss", "loss-backward");
        for (int n = 0; n < 3; n++) {
            JsonNode o = mapper.readTree(lines.get(n));
            assertEquals(ops.get(n), o.get("op").asText());
            assertEquals(32, o.get("batch").asInt());
            assertEquals(8, o.get("dim").asInt());
            assertEquals(3, o.get("k").asInt());
            assertEquals("float32", o.get("dtype").asText());
            double median = o.get("median_ms").asDouble();
            double floor = o.get("floor_ms").asDouble();
            assertTrue(median > 0 && floor > 0, lines.get(n));
            assertEquals(median / floor, o.get("ratio").asDouble(), 1e-12 * median / floor);
            assertTrue(o.get("min_ms").asDouble() <= median && median <= o.get("max_ms").asDouble(), lines.get(n));
        }
    }

    @Test
    void tableHasAHeaderAndTheRequestedOperation() {
        CliRun run = CliRun.of("bench", "--op", "volume", "--batch", "16", "--dim", "4", "--k", "2", "--repeats", "2",
                "--warmup", "0", "--dtype", "float64");
        assertEquals(0, run.exitCode(), run::describe);
        List<String> lines = run.out().lines().toList();
        assertTrue(lines.get(0).startsWith("op") && lines.get(0).contains("floor ms") && lines.get(0).contains("ratio"),
                run::describe);
        assertTrue(lines.get(1).startsWith("volume") && lines.get(1).contains("B=16 d=4 k=2 float64"), run::describe);
        assertEquals(3, lines.size(), run::describe);
    }

    @Test
    void plotIsAPngOfTheChartSizeWithEveryBatch(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path png = dir.resolve("scaling.png");
        CliRun run = CliRun.of("bench", "--op", "volume", "--batch", "16,32", "--dim", "4", "--k", "2", "--repeats", "2",
                "--warmup", "0", "--json", "--plot", png.toString());
        assertEquals(0, run.exitCode(), run::describe);
        assertEquals(2, run.out().lines().count(), "one JSON line per batch size");
        java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(png.toFile());
        assertEquals(ScalingChart.WIDTH, image.getWidth());
        assertEquals(ScalingChart.HEIGHT, image.getHeight());
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left");
        }
    }

    @Test
    void plotAxesAreLabelledAtTheBatchSizesAndInMilliseconds() {
        // x = log2 B, y = log10 ms on linear axes: every tick is labelled, also without a power of ten in range
        List<BenchCommand.Result> results = List.of(
                new BenchCommand.Result(BenchCommand.Op.VOLUME, 256, 2.0, 1.5, 2.5, 1.0, 1.0),
                new BenchCommand.Result(BenchCommand.Op.VOLUME, 512, 6.0, 5.5, 6.5, 3.0, 1.0));
        org.knowm.xchart.XYChart chart = ScalingChart.chart(results, 64, 3, "float32");
        assertTrue(!chart.getStyler().isXAxisLogarithmic() && !chart.getStyler().isYAxisLogarithmic());
        org.knowm.xchart.XYSeries median = chart.getSeriesMap().get("volume (median)");
        assertEquals(List.of(8.0, 9.0), java.util.Arrays.stream(median.getXData()).boxed().toList());
        assertEquals(Math.log10(6.0), median.getYData()[1], 1e-15);
        assertEquals("256", ScalingChart.batchLabel(8.0));
        assertEquals("512", ScalingChart.batchLabel(ScalingChart.log2(512)));
        assertEquals("1000", ScalingChart.batchLabel(ScalingChart.log2(1000)));
        assertEquals("2.51", ScalingChart.millisecondsLabel(0.4));
        assertEquals("10", ScalingChart.millisecondsLabel(1.0));
        assertEquals("0.125", ScalingChart.millisecondsLabel(Math.log10(0.125)));
        assertEquals("1259", ScalingChart.millisecondsLabel(3.1));
    }

    @Test
    void badOptionsAreOneErrorLine() {
        CliRun.of("bench", "--k", "1").assertOneErrorLine(2, "--k", ">= 2");
        CliRun.of("bench", "--batch", "0").assertOneErrorLine(2, "--batch");
        CliRun.of("bench", "--repeats", "0").assertOneErrorLine(2, "--repeats");
        CliRun.of("bench", "--op", "train").assertOneErrorLine(2, "--op", "loss-backward", "(case-insensitive)", "'train'");
        CliRun.of("bench", "--dtype", "float16").assertOneErrorLine(2, "--dtype", "FLOAT32", "'float16'");
        CliRun.of("bench", "--dtype", "int8").assertOneErrorLine(2, "--dtype");
        CliRun.of("bench", "--warmup", "-1").assertOneErrorLine(2, "--warmup");
        CliRun.of("bench", "--batch", "64,1").assertOneErrorLine(2, "--batch", "got 1");
        CliRun.of("bench", "--plot", "/nonexistent-dir/x.png").assertOneErrorLine(2, "--plot");
    }
}
