package io.github.gram4j.cli;

import static io.github.gram4j.cli.NpyTestFiles.random;
import static io.github.gram4j.cli.NpyTestFiles.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The CLI items of issue 10: outputs that would clobber an input or cannot be written, too little
 * memory, stale temporary files, multi-file outputs, and the input checks of the gathered form,
 * {@code --inputs}, NaN files and id files. Every fault is one {@code error:} line, exit 2, found
 * before the work starts.
 */
class CliFaultsTest {

    private static final int B = 4;
    private static final int D = 6;

    @TempDir
    Path dir;

    private Path npy(String name, INDArray a) throws IOException {
        return write(dir.resolve(name), a);
    }

    private Path[] pair() throws IOException {
        return new Path[] {npy("a.npy", random(1, B, D, DataType.DOUBLE)), npy("x.npy", random(2, B, D, DataType.DOUBLE))};
    }

    private static INDArray withNaN(INDArray a) {
        INDArray b = a.dup();
        b.putScalar(1, 2, Double.NaN);
        return b;
    }

    // ------------------------------------------------------------------ item 8: --out is an input

    static Stream<String> outputsThatAreTheInput() {
        return Stream.of("same path", "via ..", "symbolic link", "hard link", "the anchor");
    }

    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.MethodSource("outputsThatAreTheInput")
    void anOutputThatIsAnInputIsRefusedAndTheInputKept(String how) throws IOException {
        Path[] in = pair();
        byte[] anchorBytes = Files.readAllBytes(in[0]);
        byte[] inputBytes = Files.readAllBytes(in[1]);
        Path out = switch (how) {
            case "same path" -> in[1];
            case "via .." -> Files.createDirectory(dir.resolve("sub")).resolve("../x.npy");
            case "symbolic link" -> Files.createSymbolicLink(dir.resolve("link.npy"), in[1]);
            case "hard link" -> Files.createLink(dir.resolve("hard.npy"), in[1]);
            default -> in[0];
        };
        CliRun.of("volume", "--anchor", in[0].toString(), "--inputs", in[1].toString(), "--out", out.toString())
                .assertOneErrorLine(2, "--out " + out, "is the input", "Choose another output file");
        assertArrayEquals(anchorBytes, Files.readAllBytes(in[0]));
        assertArrayEquals(inputBytes, Files.readAllBytes(in[1]));
    }

    // ------------------------------------------------------------------ item 9: odd output locations, before the work

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/proc/V.npy", "/sys/V.npy", "/proc/sys/vm/V.npy", "/proc/self"})
    void unwritableOutputLocationsAreRefusedBeforeTheInputsAreRead(String location) throws IOException {
        Path out = Path.of(location);
        Assumptions.assumeTrue(Files.isDirectory(out.getParent()), "needs Linux's /proc and /sys");
        // the candidate file holds a NaN: the error must be about the output, found first
        Path anchor = npy("a.npy", random(1, B, D, DataType.DOUBLE));
        Path bad = npy("nan.npy", withNaN(random(2, B, D, DataType.DOUBLE)));
        CliRun.of("volume", "--anchor", anchor.toString(), "--inputs", bad.toString(), "--out", location)
                .assertOneErrorLine(2, "--out " + location);
    }

    @Test
    void outputADirectoryOrInAMissingDirectory() throws IOException {
        Path[] in = pair();
        CliRun.of("volume", "--anchor", in[0].toString(), "--inputs", in[1].toString(), "--out", dir.toString())
                .assertOneErrorLine(2, "--out " + dir, "is a directory");
        CliRun.of("eval", "--anchor", in[0].toString(), "--inputs", in[1].toString(), "--anchor-ids",
                dir.resolve("none.txt").toString(), "--candidate-ids", dir.resolve("none.txt").toString())
                .assertOneErrorLine(2, "none.txt", "no such file");
    }

    @Test
    void benchPlotIsCheckedBeforeTheBenchmarkRuns() {
        // --repeats 100000 would run for minutes: the check must come first (nothing on stdout)
        CliRun.of("bench", "--op", "volume", "--batch", "64", "--dim", "8", "--k", "2", "--repeats", "100000",
                "--warmup", "0", "--plot", "/proc/scaling.png").assertOneErrorLine(2, "--plot /proc/scaling.png");
        CliRun.of("bench", "--op", "volume", "--batch", "64", "--repeats", "100000", "--warmup", "0", "--plot",
                dir.toString()).assertOneErrorLine(2, "--plot " + dir, "is a directory");
    }

    @Test
    void demoCsvAndPlotAreCheckedBeforeTraining() {
        CliRun.of("demo", "--steps", "100000", "--csv", "/proc/demo.csv").assertOneErrorLine(2, "--csv /proc/demo.csv");
        CliRun.of("demo", "--steps", "100000", "--plot", "/sys/demo.png").assertOneErrorLine(2, "--plot /sys/demo.png");
        CliRun.of("demo", "--steps", "100000", "--plot", dir.resolve("p.png").toString(), "--csv",
                dir.resolve("p.png").toString()).assertOneErrorLine(2, "--plot and --csv name the same file");
    }

    // ------------------------------------------------------------------ item 10: memory

    @Test
    void aResultBeyondTheMemoryLimitIsRefusedUpFrontWithTheHint() throws IOException {
        // 30000 x 1 inputs (120 kB each): the 30000 x 30000 float32 result needs 3.4 GiB, the tests run with -Xmx2g
        Path a = npy("tall_a.npy", random(3, 30000, 1, DataType.FLOAT));
        Path x = npy("tall_x.npy", random(4, 30000, 1, DataType.FLOAT));
        Path out = dir.resolve("V.npy");
        String line = CliRun.of("volume", "--anchor", a.toString(), "--inputs", x.toString(), "--out", out.toString())
                .assertOneErrorLine(2, "--out " + out, "30000 x 30000 float32 volume matrix", "needs at least 3.4 GiB",
                        "GRAM_JAVA_OPTS=-Xmx");
        assertTrue(line.matches(".*-Xmx[0-9]+g .*"), line);
        assertFalse(Files.exists(out));
        CliRun.of("eval", "--anchor", a.toString(), "--inputs", x.toString())
                .assertOneErrorLine(2, "30000 x 30000 float32 score matrix", "GRAM_JAVA_OPTS=-Xmx");
        CliRun.of("loss", "--anchor", a.toString(), "--inputs", x.toString(), "--out-dir",
                dir.resolve("runs/L").toString()).assertOneErrorLine(2, "loss of 30000 x 30000 float32",
                "GRAM_JAVA_OPTS=-Xmx");
        CliRun.of("bench", "--batch", "40000", "--dim", "1", "--op", "volume")
                .assertOneErrorLine(2, "bench at --batch 40000", "GRAM_JAVA_OPTS=-Xmx");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("tall_a.npy", "tall_x.npy"), files.map(p -> p.getFileName().toString()).sorted()
                    .toList(), "no output, no temporary file, no output directory");
        }
    }

    // ------------------------------------------------------------------ item 11: stale temporary files

    @Test
    void aLaterRunRemovesTheTemporaryFileOfAKilledRun() throws IOException {
        Path[] in = pair();
        Path out = dir.resolve("V.npy");
        Path stale = Files.write(dir.resolve(".V.npy.5f3a9c0e1d2b4a68.tmp"), new byte[1 << 16]);
        Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minusSeconds(7200)));
        CliRun.of("volume", "--anchor", in[0].toString(), "--inputs", in[1].toString(), "--out", out.toString())
                .assertSilentSuccess();
        assertFalse(Files.exists(stale));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("V.npy", "a.npy", "x.npy"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    // ------------------------------------------------------------------ item 12: loss --out-dir

    @Test
    void lossOutDirReplacesTheWholeSetAndCreatesParents() throws IOException {
        Path a = npy("a.npy", random(1, B, D, DataType.FLOAT));
        Path x1 = npy("x1.npy", random(2, B, D, DataType.FLOAT));
        Path x2 = npy("x2.npy", random(3, B, D, DataType.FLOAT));
        Path out = dir.resolve("runs/7/out");
        CliRun.of("loss", "--anchor", a.toString(), "--inputs", x1 + "," + x2, "--out-dir", out.toString())
                .assertSilentSuccess();
        assertEquals(List.of("grad_anchor.npy", "grad_input_1.npy", "grad_input_2.npy", "loss.json"), list(out));
        // an earlier gathered run left more files of the set; the user's notes stay
        Files.writeString(out.resolve("grad_gathered_anchor.npy"), "stale");
        Files.writeString(out.resolve("grad_gathered_input_1.npy"), "stale");
        Files.writeString(out.resolve("notes.txt"), "mine");
        Path staleStaging = Files.createDirectory(dir.resolve("runs/7/.out.0123456789abcdef.tmp"));
        Files.setLastModifiedTime(staleStaging, FileTime.from(Instant.now().minusSeconds(7200)));
        CliRun.of("loss", "--anchor", a.toString(), "--inputs", x1.toString(), "--out-dir", out.toString())
                .assertSilentSuccess();
        assertEquals(List.of("grad_anchor.npy", "grad_input_1.npy", "loss.json", "notes.txt"), list(out));
        assertEquals(List.of("out"), list(dir.resolve("runs/7")), "the stale staging directory is gone too");
    }

    @Test
    void lossRefusesAnInputItsOutDirWouldReplace() throws IOException {
        Path out = Files.createDirectory(dir.resolve("out"));
        Path a = npy("a.npy", random(1, B, D, DataType.FLOAT));
        Path x = write(out.resolve("grad_input_1.npy"), random(2, B, D, DataType.FLOAT));
        byte[] before = Files.readAllBytes(x);
        CliRun.of("loss", "--anchor", a.toString(), "--inputs", x.toString(), "--out-dir", out.toString())
                .assertOneErrorLine(2, "--out-dir " + out, "holds the input " + x);
        assertArrayEquals(before, Files.readAllBytes(x));
    }

    private static List<String> list(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    // ------------------------------------------------------------------ item 13: input checks

    @Test
    void theGatheredRowsAtTheOffsetMustBeTheLocalRows() throws IOException {
        List<Path> all = new ArrayList<>();
        List<Path> local = new ArrayList<>();
        for (int m = 0; m < 2; m++) {
            INDArray g = random(10 + m, 2 * B, D, DataType.DOUBLE);
            all.add(npy("g" + m + ".npy", g));
            local.add(npy("l" + m + ".npy", g.get(NDArrayIndex.interval(B, 2 * B), NDArrayIndex.all()).dup()));
        }
        Path out = dir.resolve("out");
        // rank 1's rows are at offset 4; offset 0 is rank 0's
        CliRun.of("loss", "--anchor", local.get(0).toString(), "--inputs", local.get(1).toString(), "--gathered-anchor",
                all.get(0).toString(), "--gathered-inputs", all.get(1).toString(), "--offset", "0", "--out-dir",
                out.toString()).assertOneErrorLine(2, "--offset 0", "row 0 of " + all.get(0), "differs from row 0 of "
                        + local.get(0), "rank * bs");
        assertFalse(Files.exists(out));
        CliRun.of("loss", "--anchor", local.get(0).toString(), "--inputs", local.get(1).toString(), "--gathered-anchor",
                all.get(0).toString(), "--gathered-inputs", all.get(1).toString(), "--offset", "4", "--out-dir",
                out.toString()).assertSilentSuccess();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"X,", ",X", "X,,X"})
    void anEmptyElementInAFileListIsAnError(String pattern) throws IOException {
        Path[] in = pair();
        String list = pattern.replace("X", in[1].toString());
        CliRun.of("volume", "--anchor", in[0].toString(), "--inputs", list, "--out", dir.resolve("V.npy").toString())
                .assertOneErrorLine(2, "--inputs: empty file name in '" + list + "'");
        CliRun.of("loss", "--anchor", in[0].toString(), "--inputs", in[1].toString(), "--gathered-anchor",
                in[0].toString(), "--gathered-inputs", list, "--offset", "0", "--out-dir", dir.resolve("o").toString())
                .assertOneErrorLine(2, "--gathered-inputs: empty file name");
    }

    @Test
    void aNaNInTheAnchorFileNamesTheFileInEveryCommand() throws IOException {
        Path nan = npy("nan_anchor.npy", withNaN(random(1, B, D, DataType.DOUBLE)));
        Path x = npy("x.npy", random(2, B, D, DataType.DOUBLE));
        CliRun.of("loss", "--anchor", nan.toString(), "--inputs", x.toString(), "--out-dir", dir.resolve("o").toString())
                .assertOneErrorLine(2, nan.toString(), "NaN or infinite", "row 1, column 2");
        CliRun.of("volume", "--anchor", nan.toString(), "--inputs", x.toString(), "--out", dir.resolve("V.npy").toString())
                .assertOneErrorLine(2, nan.toString(), "NaN or infinite");
        CliRun.of("eval", "--anchor", nan.toString(), "--inputs", x.toString())
                .assertOneErrorLine(2, nan.toString(), "NaN or infinite");
    }

    @Test
    void lossRefusesAFloat32Float64MixLikeEveryCommand() throws IOException {
        Path a = npy("a.npy", random(1, B, D, DataType.DOUBLE));
        Path x = npy("x32.npy", random(2, B, D, DataType.FLOAT));
        CliRun.of("loss", "--anchor", a.toString(), "--inputs", x.toString(), "--out-dir", dir.resolve("o").toString())
                .assertOneErrorLine(2, x.toString(), "is float32 but the anchor", "--dtype");
        CliRun.of("loss", "--anchor", a.toString(), "--inputs", x.toString(), "--dtype", "FLOAT64", "--out-dir",
                dir.resolve("o").toString()).assertSilentSuccess();
    }

    // ------------------------------------------------------------------ no Inf/NaN output from finite input

    @Test
    void resultsBeyondTheDtypesRangeAreNeverWritten() throws IOException {
        // float32 rows of norm ~1e18, k = 3: the volumes (~1e54) overflow float32
        Path a = npy("big_a.npy", random(5, B, D, DataType.FLOAT).muli(1e18f));
        Path x1 = npy("big_x1.npy", random(6, B, D, DataType.FLOAT).muli(1e18f));
        Path x2 = npy("big_x2.npy", random(7, B, D, DataType.FLOAT).muli(1e18f));
        Path out = dir.resolve("V.npy");
        CliRun.of("volume", "--anchor", a.toString(), "--inputs", x1 + "," + x2, "--out", out.toString())
                .assertOneErrorLine(2);
        assertFalse(Files.exists(out));
        Path lossDir = dir.resolve("L");
        CliRun.of("loss", "--anchor", a.toString(), "--inputs", x1 + "," + x2, "--out-dir", lossDir.toString())
                .assertOneErrorLine(2);
        assertFalse(Files.exists(lossDir));
        // in float64 the same inputs are fine
        CliRun.of("volume", "--anchor", a.toString(), "--inputs", x1 + "," + x2, "--out", out.toString(), "--dtype",
                "float64").assertSilentSuccess();
    }

    // ------------------------------------------------------------------ root-proof permission check

    @Test
    void aFileNoOneMayReadIsReportedAsSuch() throws IOException {
        // write-only for everyone, root included (procfs checks the mode itself)
        Path writeOnly = Path.of("/proc/sys/vm/drop_caches");
        Assumptions.assumeTrue(Files.exists(writeOnly), "needs Linux's /proc/sys");
        Path[] in = pair();
        CliRun.of("volume", "--anchor", in[0].toString(), "--inputs", writeOnly.toString(), "--out",
                dir.resolve("V.npy").toString()).assertOneErrorLine(2, writeOnly.toString(), "permission denied");
    }
}
