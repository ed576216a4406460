package io.github.gram4j.cli;

import static io.github.gram4j.cli.NpyTestFiles.random;
import static io.github.gram4j.cli.NpyTestFiles.joined;
import static io.github.gram4j.cli.NpyTestFiles.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import io.github.gram4j.loss.GatheredBatches;
import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.LossResult;
import io.github.gram4j.loss.Temperature;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class LossCommandTest {

    private static final int BS = 4;
    private static final int N = 8;
    private static final int D = 6;

    @TempDir
    Path dir;

    private List<Path> writeBatches(String prefix, int k, int rows, DataType type, long seed) throws IOException {
        List<Path> paths = new ArrayList<>();
        for (int m = 0; m < k; m++) {
            paths.add(write(dir.resolve(prefix + m + ".npy"), random(seed + m, rows, D, type)));
        }
        return paths;
    }


    private static INDArray read(Path p) {
        return Nd4j.createFromNpyFile(p.toFile());
    }

    private static void assertSame(INDArray expected, Path file) {
        INDArray actual = read(file);
        assertEquals(expected.dataType(), actual.dataType(), file.toString());
        assertArrayEquals(expected.shape(), actual.shape(), file.toString());
        assertArrayEquals(expected.dup('c').data().asDouble(), actual.dup('c').data().asDouble(), 0.0, file.toString());
    }

    @ParameterizedTest(name = "k={0} {1}")
    @CsvSource({"2, FLOAT", "3, DOUBLE", "4, FLOAT"})
    void oneProcessMatchesTheLibrary(int k, DataType type) throws IOException {
        List<Path> files = writeBatches("x", k, BS, type, 10 * k);
        Path out = dir.resolve("out");
        CliRun.of("loss", "--anchor", files.get(0).toString(), "--inputs", joined(files.subList(1, k)),
                "--temperature", "0.2", "--label-smoothing", "0.05", "--out-dir", out.toString()).assertSilentSuccess();

        List<INDArray> xs = files.stream().map(LossCommandTest::read).toList();
        LossResult expected = new GramLoss(0.05).compute(Temperature.of(0.2), xs.get(0),
                xs.subList(1, k).toArray(INDArray[]::new));
        JsonNode json = new ObjectMapper().readTree(Files.readString(out.resolve("loss.json")));
        assertEquals(expected.loss(), json.get("loss").asDouble(), 0.0);
        assertEquals(expected.gradTemperature(), json.get("grad_temperature").asDouble(), 0.0);
        assertSame(expected.gradAnchor(), out.resolve("grad_anchor.npy"));
        for (int m = 1; m < k; m++) {
            assertSame(expected.gradCandidates().get(m - 1), out.resolve("grad_input_" + m + ".npy"));
        }
        try (Stream<Path> listing = Files.list(out)) {
            assertEquals(k + 1, listing.count(), "loss.json and one gradient per input, nothing else");
        }
    }

    @Test
    void gatheredFormWritesTheGatheredGradients() throws IOException {
        int k = 3;
        List<Path> all = writeBatches("g", k, N, DataType.DOUBLE, 77);
        List<INDArray> gathered = all.stream().map(LossCommandTest::read).toList();
        List<Path> local = new ArrayList<>();
        for (int m = 0; m < k; m++) {
            local.add(write(dir.resolve("l" + m + ".npy"), gathered.get(m).get(
                    org.nd4j.linalg.indexing.NDArrayIndex.interval(4, 8), org.nd4j.linalg.indexing.NDArrayIndex.all()).dup()));
        }
        Path out = dir.resolve("rank1");
        CliRun.of("loss", "--anchor", local.get(0).toString(), "--inputs", joined(local.subList(1, k)),
                "--gathered-anchor", all.get(0).toString(), "--gathered-inputs", joined(all.subList(1, k)),
                "--offset", "4", "--out-dir", out.toString()).assertSilentSuccess();
        List<INDArray> ls = local.stream().map(LossCommandTest::read).toList();
        LossResult expected = new GramLoss().compute(Temperature.of(0.07),
                GatheredBatches.of(ls.get(0), ls.subList(1, k), gathered.get(0), gathered.subList(1, k), 4), true);
        assertSame(expected.gradAnchor(), out.resolve("grad_anchor.npy"));
        assertSame(expected.gradCandidates().get(1), out.resolve("grad_input_2.npy"));
        assertSame(expected.gradGatheredAnchor(), out.resolve("grad_gathered_anchor.npy"));
        assertSame(expected.gradGatheredCandidates().get(0), out.resolve("grad_gathered_input_1.npy"));
        assertSame(expected.gradGatheredCandidates().get(1), out.resolve("grad_gathered_input_2.npy"));
        assertEquals(expected.loss(), new ObjectMapper().readTree(Files.readString(out.resolve("loss.json")))
                .get("loss").asDouble(), 0.0);
    }

    @Test
    void anExistingDirectoryKeepsItsOtherFiles() throws IOException {
        List<Path> files = writeBatches("x", 2, BS, DataType.FLOAT, 5);
        Path out = Files.createDirectory(dir.resolve("out"));
        Files.writeString(out.resolve("notes.txt"), "keep me");
        Files.writeString(out.resolve("loss.json"), "old");
        CliRun.of("loss", "--anchor", files.get(0).toString(), "--inputs", files.get(1).toString(), "--out-dir",
                out.toString()).assertSilentSuccess();
        assertEquals("keep me", Files.readString(out.resolve("notes.txt")));
        assertTrue(Files.readString(out.resolve("loss.json")).contains("\"loss\""));
        try (Stream<Path> listing = Files.list(dir)) {
            assertTrue(listing.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no staging left");
        }
    }

    /** Runs {@code args} (plus --out-dir) and checks the error contract and that nothing was written. */
    private void assertRejected(List<String> args, String... fragments) throws IOException {
        Path out = dir.resolve("never");
        List<String> all = new ArrayList<>(args);
        all.add("--out-dir");
        all.add(out.toString());
        CliRun.of(all.toArray(String[]::new)).assertOneErrorLine(2, fragments);
        assertFalse(Files.exists(out), "no output directory on error");
        try (Stream<Path> listing = Files.list(dir)) {
            assertTrue(listing.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no staging left");
        }
    }

    @Test
    void badInputIsOneErrorLineAndNoOutput() throws IOException {
        List<Path> x = writeBatches("x", 3, BS, DataType.FLOAT, 1);
        List<Path> g = writeBatches("g", 3, N, DataType.FLOAT, 2);
        Path wide = write(dir.resolve("wide.npy"), random(3, BS, D + 1, DataType.FLOAT));
        Path dbl = write(dir.resolve("dbl.npy"), random(4, BS, D, DataType.DOUBLE));
        String a = x.get(0).toString();
        String xs = joined(x.subList(1, 3));
        assertRejected(List.of("loss", "--anchor", a, "--inputs", xs, "--temperature", "0"), "--temperature", ">= 2.2");
        // a subnormal tau passes "> 0" but breaks the logits: a usage error (exit 2), not an internal error
        assertRejected(List.of("loss", "--anchor", a, "--inputs", xs, "--temperature", "1e-320"), "--temperature",
                "subnormal");
        assertRejected(List.of("loss", "--anchor", a, "--inputs", xs, "--temperature", "-1"), "--temperature");
        assertRejected(List.of("loss", "--anchor", a, "--inputs", xs, "--label-smoothing", "1.5"), "--label-smoothing");
        assertRejected(List.of("loss", "--anchor", a, "--inputs", xs, "--offset", "0"), "--gathered-anchor",
                "--gathered-inputs", "--offset");
        assertRejected(List.of("loss", "--anchor", a, "--inputs", xs, "--gathered-anchor", g.get(0).toString(),
                "--gathered-inputs", joined(g.subList(1, 3)), "--offset", "6"), "offset", "0..4");
        assertRejected(List.of("loss", "--anchor", a, "--inputs", x.get(1) + "," + wide), wide.toString(), "dim 7");
        assertRejected(List.of("loss", "--anchor", a, "--inputs", x.get(1) + "," + dbl), dbl.toString(), "float64");
        assertRejected(List.of("loss", "--anchor", a, "--inputs", g.get(1).toString()), g.get(1).toString(), "has 8",
                "pairs anchor row i");
        assertRejected(List.of("loss", "--anchor", dir.resolve("missing.npy").toString(), "--inputs", xs),
                "missing.npy");
        assertRejected(List.of("loss", "--anchor", a, "--inputs", xs, "--gathered-anchor", g.get(0).toString(),
                "--gathered-inputs", g.get(1).toString(), "--offset", "0"), "--gathered-inputs", "as many files as --inputs (2)");
    }

    @Test
    void anOutDirThatIsAFileIsRejected() throws IOException {
        List<Path> x = writeBatches("x", 2, BS, DataType.FLOAT, 1);
        Path file = Files.writeString(dir.resolve("file"), "x");
        CliRun.of("loss", "--anchor", x.get(0).toString(), "--inputs", x.get(1).toString(), "--out-dir", file.toString())
                .assertOneErrorLine(2, "--out-dir", "not a directory");
        assertEquals("x", Files.readString(file));
    }
}
