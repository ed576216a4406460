package io.github.gram4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoCommandTest {

    @TempDir
    Path dir;

    @Test
    void runsEndToEndWithTinySettingsAndWritesPlotAndCsv() throws Exception {
        Path png = dir.resolve("demo.png");
        Path csv = dir.resolve("demo.csv");
        CliRun run = CliRun.of("demo", "--modalities", "3", "--items", "1000", "--steps", "100", "--batch", "128", "--dim",
                "64", "--eval-every", "50", "--plot", png.toString(), "--plot-size", "640x300", "--csv", csv.toString());
        assertEquals(0, run.exitCode(), run::describe);
        assertEquals("", run.err(), run::describe);
        List<String> lines = run.out().lines().toList();
        assertTrue(lines.get(0).startsWith("gram demo: 1000 items (800 train / 200 test), modalities text, video, audio"),
                run::describe);
        assertEquals(6, lines.stream().filter(l -> l.contains("test R@1")).count(), "2 evaluations per method");
        String before = lines.stream().filter(l -> l.startsWith("before training")).findFirst().orElseThrow();
        String gram = lines.stream().filter(l -> l.startsWith("after GRAM")).findFirst().orElseThrow();
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("after cosine InfoNCE")), run::describe);
        String triangle = lines.stream().filter(l -> l.startsWith("after TRIANGLE")).findFirst().orElseThrow();
        double r1Before = recallAt1(before);
        double r1Gram = recallAt1(gram);
        // measured with these settings: R@1 0.5 -> 58.5
        assertTrue(r1Gram > r1Before + 30, "GRAM training lifts R@1: " + before + " / " + gram);
        assertTrue(recallAt1(triangle) > r1Before + 30, "TRIANGLE training lifts R@1: " + before + " / " + triangle);

        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(640, image.getWidth());
        assertEquals(300, image.getHeight());
        List<String> rows = Files.readAllLines(csv);
        assertEquals("method,step,loss,temperature,r_at_1,r_at_5,r_at_10", rows.get(0));
        assertEquals(1 + 3 * 100, rows.size(), "one row per step and method");
        assertTrue(rows.get(50).startsWith("GRAM,50,") && !rows.get(50).endsWith(","), "step 50 was evaluated");
        assertTrue(rows.get(49).endsWith(",,,"), "step 49 was not");
        assertTrue(rows.get(200).startsWith("cosine,100,"));
        assertTrue(rows.get(300).startsWith("TRIANGLE,100,") && !rows.get(300).endsWith(","));
    }

    /** A table row ends with R@1, R@5, R@10. */
    private static double recallAt1(String row) {
        String[] cells = row.trim().split("\\s+");
        return Double.parseDouble(cells[cells.length - 3]);
    }

    @Test
    void badOptionsAreOneErrorLineAndWriteNothing() {
        Path png = dir.resolve("never.png");
        CliRun.of("demo", "--modalities", "6").assertOneErrorLine(2, "--modalities", "2..5");
        CliRun.of("demo", "--items", "5").assertOneErrorLine(2, "--items");
        CliRun.of("demo", "--steps", "10", "--plot", png.toString(), "--plot-size", "10x10")
                .assertOneErrorLine(2, "--plot-size");
        CliRun.of("demo", "--csv", dir.resolve("missing/x.csv").toString()).assertOneErrorLine(2, "--csv");
        assertFalse(Files.exists(png));
    }
}
