package io.github.gram4j.cli;

import static io.github.gram4j.cli.NpyTestFiles.columnMajor;
import static io.github.gram4j.cli.NpyTestFiles.floats;
import static io.github.gram4j.cli.NpyTestFiles.ints;
import static io.github.gram4j.cli.NpyTestFiles.random;
import static io.github.gram4j.cli.NpyTestFiles.rowMajor;
import static io.github.gram4j.cli.NpyTestFiles.joined;
import static io.github.gram4j.cli.NpyTestFiles.write;
import static io.github.gram4j.cli.NpyTestFiles.writeAll;
import static io.github.gram4j.cli.NpyTestFiles.writeRaw;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.VolumeMethod;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class VolumeCommandTest {

    private static final int B1 = 4;
    private static final int B2 = 3;
    private static final int D = 6;

    @TempDir
    Path dir;

    private Path out;

    @BeforeEach
    void setUp() {
        out = dir.resolve("V.npy");
    }

    // ---------------------------------------------------------------- results

    /** Writes an anchor and {@code k − 1} candidate batches; returns {anchor, x1, …}. */
    private List<INDArray> inputs(int k, DataType dataType, long seed) {
        List<INDArray> arrays = new ArrayList<>();
        arrays.add(random(seed, B1, D, dataType));
        for (int m = 1; m < k; m++) {
            arrays.add(random(seed + m, B2, D, dataType));
        }
        return arrays;
    }



    private static INDArray library(VolumeMethod method, List<INDArray> arrays) {
        List<String> names = new ArrayList<>();
        for (int m = 1; m < arrays.size(); m++) {
            names.add("x" + m);
        }
        return GramVolumes.pairwise(method, ModalityBatches.named("anchor", arrays.get(0), names,
                arrays.subList(1, arrays.size())));
    }

    private INDArray readOut() {
        return Nd4j.createFromNpyFile(out.toFile());
    }

    /** {@code sqrt(|det(M·Mᵀ)|)} in double precision, Gaussian elimination with partial pivoting. */
    private static double gramVolume(double[][] rows) {
        int k = rows.length;
        double[][] g = new double[k][k];
        for (int a = 0; a < k; a++) {
            for (int b = 0; b < k; b++) {
                double s = 0;
                for (int c = 0; c < rows[a].length; c++) {
                    s += rows[a][c] * rows[b][c];
                }
                g[a][b] = s;
            }
        }
        double det = 1;
        for (int c = 0; c < k; c++) {
            int p = c;
            for (int r = c + 1; r < k; r++) {
                if (Math.abs(g[r][c]) > Math.abs(g[p][c])) {
                    p = r;
                }
            }
            if (p != c) {
                double[] t = g[p];
                g[p] = g[c];
                g[c] = t;
                det = -det;
            }
            det *= g[c][c];
            for (int r = c + 1; r < k; r++) {
                double f = g[r][c] / g[c][c];
                for (int cc = c; cc < k; cc++) {
                    g[r][cc] -= f * g[c][cc];
                }
            }
        }
        return Math.sqrt(Math.abs(det));
    }

    private void assertNoTempFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<String> temps = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith(".") && n.endsWith(".tmp")).toList();
            assertEquals(List.of(), temps);
        }
    }

    static Stream<Arguments> kAndDtype() {
        return Stream.of(2, 3, 4, 5).flatMap(k -> Stream.of(DataType.FLOAT, DataType.DOUBLE)
                .map(t -> Arguments.of(k, t)));
    }

    @ParameterizedTest(name = "k={0} {1}")
    @MethodSource("kAndDtype")
    void writesTheLibraryVolumesExactly(int k, DataType dataType) throws IOException {
        List<INDArray> arrays = inputs(k, dataType, 100L * k);
        List<Path> paths = writeAll(dir, arrays);

        CliRun.of("volume", "--anchor", paths.get(0).toString(), "--inputs", joined(paths.subList(1, k)),
                "--out", out.toString()).assertSilentSuccess();

        INDArray v = readOut();
        assertEquals(dataType, v.dataType());
        assertArrayEquals(new long[] {B1, B2}, v.shape());
        assertArrayEquals(rowMajor(library(VolumeMethod.FAST, arrays)), rowMajor(v));
        // and the volumes are the right ones: sqrt(det G) of (anchor_i, x1_j, ..., x(k-1)_j)
        double tol = dataType == DataType.FLOAT ? 1e-4 : 1e-10;
        for (int i = 0; i < B1; i++) {
            for (int j = 0; j < B2; j++) {
                double[][] tuple = new double[k][];
                tuple[0] = arrays.get(0).getRow(i).toDoubleVector();
                double scale = norm(tuple[0]);
                for (int m = 1; m < k; m++) {
                    tuple[m] = arrays.get(m).getRow(j).toDoubleVector();
                    scale *= norm(tuple[m]);
                }
                assertEquals(gramVolume(tuple), v.getDouble(i, j), tol * scale, "V[" + i + "][" + j + "]");
            }
        }
        assertNoTempFiles();
    }

    private static double norm(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v * v;
        }
        return Math.sqrt(s);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dtypes")
    void referenceMethodAnyCase(DataType dataType) throws IOException {
        List<INDArray> arrays = inputs(3, dataType, 7);
        List<Path> paths = writeAll(dir, arrays);
        CliRun.of("volume", "--anchor", paths.get(0).toString(), "--inputs", joined(paths.subList(1, 3)),
                "--out", out.toString(), "--method", "Reference").assertSilentSuccess();
        INDArray v = readOut();
        assertEquals(dataType, v.dataType());
        assertArrayEquals(rowMajor(library(VolumeMethod.REFERENCE, arrays)), rowMajor(v));
    }

    static Stream<DataType> dtypes() {
        return Stream.of(DataType.FLOAT, DataType.DOUBLE);
    }

    @Test
    void inputsMayBeRepeatedInsteadOfCommaSeparated() throws IOException {
        List<INDArray> arrays = inputs(3, DataType.DOUBLE, 9);
        List<Path> paths = writeAll(dir, arrays);
        CliRun.of("volume", "--anchor", paths.get(0).toString(), "--inputs", paths.get(1).toString(),
                "--inputs", paths.get(2).toString(), "--out", out.toString(), "--method", "FAST").assertSilentSuccess();
        assertArrayEquals(rowMajor(library(VolumeMethod.FAST, arrays)), rowMajor(readOut()));
    }

    @Test
    void dtypeFloat64CastsFloat32Inputs() throws IOException {
        List<INDArray> arrays = inputs(4, DataType.FLOAT, 11);
        List<Path> paths = writeAll(dir, arrays);
        CliRun.of("volume", "--anchor", paths.get(0).toString(), "--inputs", joined(paths.subList(1, 4)),
                "--out", out.toString(), "--dtype", "float64").assertSilentSuccess();
        INDArray v = readOut();
        assertEquals(DataType.DOUBLE, v.dataType());
        List<INDArray> cast = arrays.stream().map(a -> a.castTo(DataType.DOUBLE)).toList();
        assertArrayEquals(rowMajor(library(VolumeMethod.FAST, cast)), rowMajor(v));
    }

    @Test
    void dtypeFloat32CastsMixedInputs() throws IOException {
        List<INDArray> arrays = inputs(3, DataType.DOUBLE, 13);
        arrays.set(2, arrays.get(2).castTo(DataType.FLOAT)); // x2 is float32, the rest float64
        List<Path> paths = writeAll(dir, arrays);
        CliRun.of("volume", "--anchor", paths.get(0).toString(), "--inputs", joined(paths.subList(1, 3)),
                "--out", out.toString(), "--dtype", "FLOAT32").assertSilentSuccess();
        INDArray v = readOut();
        assertEquals(DataType.FLOAT, v.dataType());
        List<INDArray> cast = arrays.stream().map(a -> a.castTo(DataType.FLOAT)).toList();
        assertArrayEquals(rowMajor(library(VolumeMethod.FAST, cast)), rowMajor(v));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dtypes")
    void fortranOrderFilesAreReadCorrectly(DataType dataType) throws IOException {
        List<INDArray> arrays = inputs(3, dataType, 17);
        int itemSize = dataType == DataType.FLOAT ? 4 : 8;
        String descr = dataType == DataType.FLOAT ? "<f4" : "<f8";
        Path anchorF = writeRaw(dir.resolve("anchorF.npy"), descr, true, "(" + B1 + ", " + D + ")",
                floats(columnMajor(arrays.get(0)), itemSize, ByteOrder.LITTLE_ENDIAN));
        Path x1F = writeRaw(dir.resolve("x1F.npy"), descr, true, "(" + B2 + ", " + D + ")",
                floats(columnMajor(arrays.get(1)), itemSize, ByteOrder.LITTLE_ENDIAN));
        Path x2 = write(dir.resolve("x2.npy"), arrays.get(2));

        // the reader alone: same values as the C-order original
        assertArrayEquals(rowMajor(arrays.get(0)), rowMajor(NpyFiles.read(anchorF, "anchorF.npy")));

        CliRun.of("volume", "--anchor", anchorF.toString(), "--inputs", x1F + "," + x2,
                "--out", out.toString()).assertSilentSuccess();
        assertArrayEquals(rowMajor(library(VolumeMethod.FAST, arrays)), rowMajor(readOut()));
    }

    @Test
    void replacesAnExistingOutputAndLeavesNoTemporaryFile() throws IOException {
        List<INDArray> arrays = inputs(2, DataType.DOUBLE, 19);
        List<Path> paths = writeAll(dir, arrays);
        Files.writeString(out, "old contents");
        CliRun.of("volume", "--anchor", paths.get(0).toString(), "--inputs", paths.get(1).toString(),
                "--out", out.toString()).assertSilentSuccess();
        assertArrayEquals(rowMajor(library(VolumeMethod.FAST, arrays)), rowMajor(readOut()));
        assertNoTempFiles();
    }

    @Test
    void formatVersions2And3AndATrailingCommaInTheShapeAreRead() throws IOException {
        INDArray x = random(31, B2, D, DataType.DOUBLE);
        byte[] data = floats(rowMajor(x), 8, ByteOrder.LITTLE_ENDIAN);
        String dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + B2 + ", " + D + ",), }";
        for (int major = 1; major <= 3; major++) {
            Path p = writeRaw(dir.resolve("v" + major + ".npy"), major, 0, dict, data);
            assertArrayEquals(rowMajor(x), rowMajor(NpyFiles.read(p, p.toString())), "version " + major);
        }
    }

    // ---------------------------------------------------------------- errors

    /** Builds a failing command line in {@code dir}; {@code out} is the --out to use. */
    @FunctionalInterface
    interface Setup {
        String[] args(Path dir, Path out) throws IOException;
    }

    record ErrorCase(String name, Setup setup, String[] fragments) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static ErrorCase error(String name, Setup setup, String... fragments) {
        return new ErrorCase(name, setup, fragments);
    }

    /** anchor.npy (4 x 6) and x1.npy (3 x 6), float64, written in {@code dir}. */
    private static Path[] valid(Path dir) throws IOException {
        return new Path[] {
            write(dir.resolve("anchor.npy"), random(1, B1, D, DataType.DOUBLE)),
            write(dir.resolve("x1.npy"), random(2, B2, D, DataType.DOUBLE)),
        };
    }

    /** {@code volume --anchor anchor.npy --inputs x1.npy,BAD --out OUT}. */
    private static String[] withInput(Path dir, Path out, Path bad) throws IOException {
        Path[] ok = valid(dir);
        return new String[] {"volume", "--anchor", ok[0].toString(), "--inputs", ok[1] + "," + bad,
            "--out", out.toString()};
    }

    /** An input file written byte by byte: numpy's header layout with {@code descr}, {@code shape}. */
    private static Setup rawInput(String file, String descr, String shape, byte[] data) {
        return (dir, out) -> withInput(dir, out, writeRaw(dir.resolve(file), descr, false, shape, data));
    }

    private static Setup rawInput(String file, int major, String dict, byte[] data) {
        return (dir, out) -> withInput(dir, out, writeRaw(dir.resolve(file), major, 0, dict, data));
    }

    private static Setup fileInput(String file, byte[] contents) {
        return (dir, out) -> withInput(dir, out, Files.write(dir.resolve(file), contents));
    }

    private static Setup arrayInput(String file, INDArray a) {
        return (dir, out) -> withInput(dir, out, write(dir.resolve(file), a));
    }

    private static Setup options(String... extra) {
        return (dir, out) -> {
            Path[] ok = valid(dir);
            List<String> args = new ArrayList<>(List.of("volume", "--anchor", ok[0].toString(),
                    "--inputs", ok[1].toString(), "--out", out.toString()));
            args.addAll(List.of(extra));
            return args.toArray(String[]::new);
        };
    }

    private static Setup without(String option) {
        return (dir, out) -> {
            List<String> args = new ArrayList<>(Arrays.asList(options().args(dir, out)));
            int i = args.indexOf(option);
            args.remove(i + 1);
            args.remove(i);
            return args.toArray(String[]::new);
        };
    }

    private static INDArray withValue(INDArray a, double value) {
        INDArray b = a.dup();
        b.putScalar(1, 2, value);
        return b;
    }

    static Stream<ErrorCase> errorCases() {
        byte[] f8x18 = floats(new double[18], 8, ByteOrder.LITTLE_ENDIAN);
        return Stream.of(
                // files
                error("missing file", (dir, out) -> withInput(dir, out, dir.resolve("nope.npy")),
                        "nope.npy", "no such file"),
                error("directory", (dir, out) -> withInput(dir, out, Files.createDirectory(dir.resolve("sub.npy"))),
                        "sub.npy", "is a directory"),
                error("empty file", fileInput("empty.npy", new byte[0]), "empty.npy", "is empty (0 bytes)"),
                error("not a .npy file", fileInput("notes.npy", "just some text\n".getBytes(StandardCharsets.US_ASCII)),
                        "notes.npy", "not a .npy file"),
                error("truncated data", rawInput("short.npy", "<f8", "(3, 6)", floats(new double[17], 8,
                        ByteOrder.LITTLE_ENDIAN)), "short.npy", "truncated", "needs 144 data bytes, the file has 136"),
                error("truncated header", fileInput("head.npy", new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                        (byte) 0x76, 0, '{', '\''}), "head.npy", "truncated"),
                error("format version 4.0", rawInput("v4.npy", 4,
                        "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 6), }", f8x18), "v4.npy", "version 4.0"),
                error("malformed header", rawInput("keys.npy", 1, "{'descr': '<f8', 'fortran_order': False}", f8x18),
                        "keys.npy", "malformed .npy header"),
                error("shape not a tuple", rawInput("int.npy", 1,
                        "{'descr': '<f8', 'fortran_order': False, 'shape': 18, }", f8x18), "int.npy", "malformed"),
                // dtypes
                error("int32", rawInput("int32.npy", "<i4", "(3, 6)", ints(18, 4)), "int32.npy", "integer dtype int32"),
                error("int64", rawInput("int64.npy", "<i8", "(3, 6)", ints(18, 8)), "int64.npy", "integer dtype int64"),
                error("uint8", rawInput("uint8.npy", "|u1", "(3, 6)", ints(18, 1)), "uint8.npy", "integer dtype uint8"),
                error("bool", rawInput("bool.npy", "|b1", "(3, 6)", ints(18, 1)), "bool.npy", "dtype bool"),
                error("float16", rawInput("half.npy", "<f2", "(3, 6)", ints(18, 2)), "half.npy", "dtype float16"),
                error("complex64", rawInput("complex.npy", "<c8", "(3, 6)", ints(18, 8)), "complex.npy", "complex64"),
                error("object", rawInput("object.npy", "|O", "(3, 6)", ints(18, 8)), "object.npy", "dtype object"),
                error("big-endian float64", rawInput("big.npy", ">f8", "(3, 6)", floats(new double[18], 8,
                        ByteOrder.BIG_ENDIAN)), "big.npy", "big-endian float64"),
                // shapes
                error("1-D", rawInput("vector.npy", "<f8", "(6,)", floats(new double[6], 8, ByteOrder.LITTLE_ENDIAN)),
                        "vector.npy", "must be a 2-D array", "1-D shape (6,)"),
                error("3-D", rawInput("cube.npy", "<f8", "(3, 6, 1)", f8x18), "cube.npy", "3-D shape (3, 6, 1)"),
                error("0-D", rawInput("scalar.npy", "<f8", "()", floats(new double[1], 8, ByteOrder.LITTLE_ENDIAN)),
                        "scalar.npy", "0-D scalar"),
                error("no rows", rawInput("norows.npy", "<f8", "(0, 6)", new byte[0]), "norows.npy", "is empty (shape (0, 6))"),
                error("anchor 1-D", (dir, out) -> {
                    Path[] ok = valid(dir);
                    Path v = writeRaw(dir.resolve("a1d.npy"), "<f4", false, "(6,)",
                            floats(new double[6], 4, ByteOrder.LITTLE_ENDIAN));
                    return new String[] {"volume", "--anchor", v.toString(), "--inputs", ok[1].toString(), "--out",
                        out.toString()};
                }, "a1d.npy", "1-D"),
                error("dim mismatch", arrayInput("d5.npy", random(3, B2, 5, DataType.DOUBLE)), "d5.npy", "anchor.npy",
                        "has dim 5"),
                error("batch mismatch", arrayInput("b2.npy", random(3, 2, D, DataType.DOUBLE)), "b2.npy", "x1.npy",
                        "has 2 rows"),
                error("dtype mismatch", arrayInput("f32.npy", random(3, B2, D, DataType.FLOAT)), "f32.npy", "anchor.npy",
                        "is float32 but the anchor", "--dtype"),
                // values
                error("NaN", arrayInput("nan.npy", withValue(random(3, B2, D, DataType.DOUBLE), Double.NaN)), "nan.npy",
                        "contains NaN or infinite values (first at row 1, column 2)"),
                error("infinity", arrayInput("inf.npy", withValue(random(3, B2, D, DataType.DOUBLE),
                        Double.NEGATIVE_INFINITY)), "inf.npy", "NaN or infinite"),
                error("float32 overflow", (dir, out) -> {
                    String[] args = arrayInput("huge.npy", withValue(random(3, B2, D, DataType.DOUBLE), 1e300))
                            .args(dir, out);
                    String[] more = Arrays.copyOf(args, args.length + 2);
                    more[args.length] = "--dtype";
                    more[args.length + 1] = "float32";
                    return more;
                }, "huge.npy", "beyond the float32 range"),
                // options
                error("unknown method", options("--method", "slow"), "--method", "'slow'", "(see gram volume --help)"),
                error("unknown dtype", options("--dtype", "int8"), "--dtype", "'int8'"),
                error("method without value", options("--method"), "--method"),
                error("missing --anchor", without("--anchor"), "Missing required option", "--anchor"),
                error("missing --inputs", without("--inputs"), "Missing required option", "--inputs"),
                error("missing --out", without("--out"), "Missing required option", "--out"),
                error("unknown option", options("--bogus"), "Unknown option: '--bogus'"),
                error("misspelt option", (dir, out) -> {
                    String[] args = options().args(dir, out);
                    args[1] = "--anchr";
                    return args;
                }, "'--anchr'", "did you mean: --anchor?"),
                error("stray argument", options("extra.npy"), "'extra.npy'"),
                error("empty input name", (dir, out) -> {
                    String[] args = options().args(dir, out);
                    args[4] = args[4] + ",," + args[4];
                    return args;
                }, "--inputs", "empty file name"),
                error("output directory missing", (dir, out) -> options().args(dir, dir.resolve("no/such/V.npy")),
                        "--out", "does not exist"),
                error("output is a directory", (dir, out) -> options().args(dir, dir), "--out", "is a directory"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errorCases")
    void badInputExitsTwoWithOneErrorLineAndNoOutput(ErrorCase c) throws IOException {
        CliRun r = CliRun.of(c.setup().args(dir, out));
        r.assertOneErrorLine(2, c.fragments());
        assertFalse(Files.exists(out), "an output file was created: " + r.describe());
        assertNoTempFiles();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errorCases")
    void badInputLeavesAnExistingOutputUntouched(ErrorCase c) throws IOException {
        byte[] old = "precious old V.npy".getBytes(StandardCharsets.US_ASCII);
        Files.write(out, old);
        FileTime time = FileTime.fromMillis(1_000_000_000_000L);
        Files.setLastModifiedTime(out, time);

        CliRun r = CliRun.of(c.setup().args(dir, out));
        r.assertOneErrorLine(2, c.fragments());
        assertArrayEquals(old, Files.readAllBytes(out), r::describe);
        assertEquals(time, Files.getLastModifiedTime(out), r::describe);
        assertNoTempFiles();
    }

    /**
     * A file no one may read, root included: procfs checks a sysctl file's mode itself, so
     * {@code /proc/sys/vm/drop_caches} (mode 0200) is unreadable even for the root user CI runs as.
     */
    static final Path WRITE_ONLY = Path.of("/proc/sys/vm/drop_caches");

    @Test
    void unreadableFile() throws IOException {
        Assumptions.assumeTrue(Files.exists(WRITE_ONLY), "needs Linux's /proc/sys");
        Path[] ok = valid(dir);
        CliRun.of("volume", "--anchor", ok[0].toString(), "--inputs", WRITE_ONLY.toString(), "--out", out.toString())
                .assertOneErrorLine(2, WRITE_ONLY.toString(), "permission denied");
        CliRun.of("volume", "--anchor", WRITE_ONLY.toString(), "--inputs", ok[1].toString(), "--out", out.toString())
                .assertOneErrorLine(2, WRITE_ONLY.toString(), "permission denied");
        assertFalse(Files.exists(out));
        assertNoTempFiles();
    }

    @Test
    void errorNamesTheFileAsGiven() throws IOException {
        Path[] ok = valid(dir);
        String line = CliRun.of("volume", "--anchor", ok[0].toString(), "--inputs", ok[1] + "," + ok[1] + "-missing",
                "--out", out.toString()).assertOneErrorLine(2);
        assertEquals("error: " + ok[1] + "-missing: no such file", line);
        assertTrue(line.contains(dir.toString()));
    }
}
