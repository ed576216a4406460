package io.github.gram4j.core.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Pins the ND4J 1.0.0-M2.1 bugs that gram4j works around (outside SameDiff; those are pinned in
 * gram-samediff's {@code SameDiffWorkaroundsTest}). Every test asserts that the bug is <b>still
 * present</b>: after an ND4J upgrade, a failing test here names a workaround that may be
 * removable (then delete the test and the workaround together, after checking the fix).
 *
 * <ul>
 *   <li>{@code Nd4j.createFromNpyFile} (native {@code cnpy}) aborts the JVM on a big-endian file
 *       and ignores {@code fortran_order: True}: gram-cli's {@code NpyFiles} checks every header in
 *       Java first and reads Fortran-order files itself;</li>
 *   <li>{@code Nd4j.writeAsNumpy} writes a view's raw buffer, not its values: gram-cli writes a
 *       fresh C-order copy;</li>
 *   <li>whole-array reductions of FLOAT arrays accumulate in float: gram-loss reduces on the host in
 *       double, gram-samediff's cross-entropy runs in DOUBLE;</li>
 *   <li>{@code get(interval(r, r + 1), all())} on a column-strided view can return a rank-0
 *       array: gram4j's host kernels work on C-order copies of views ({@code HostArray.ofAny}),
 *       and {@code RetrievalRanks} copies a row block that is not a plain C-order run.</li>
 * </ul>
 */
class Nd4jWorkaroundsTest {

    /** {@code name.npy} with a version-1.0 header {@code dict} and {@code data} as the payload. */
    static File npy(Path dir, String name, String dict, byte[] data) throws IOException {
        String header = dict;
        int total = 10 + header.length() + 1;
        header = header + " ".repeat((64 - total % 64) % 64) + "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        out.write(header.length() & 0xff);
        out.write(header.length() >> 8);
        out.write(header.getBytes(StandardCharsets.US_ASCII));
        out.write(data);
        File f = dir.resolve(name + ".npy").toFile();
        Files.write(f.toPath(), out.toByteArray());
        return f;
    }

    static byte[] doubles(ByteOrder order, double... values) {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(order);
        for (double v : values) {
            b.putDouble(v);
        }
        return b.array();
    }

    @Test
    void npyReaderIgnoresFortranOrder(@TempDir Path dir) throws IOException {
        // the 2 × 3 matrix [[1, 2, 3], [4, 5, 6]] stored column by column, as numpy writes an f-order array
        File f = npy(dir, "f_order", "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
                doubles(ByteOrder.LITTLE_ENDIAN, 1, 4, 2, 5, 3, 6));
        INDArray read = Nd4j.createFromNpyFile(f);
        INDArray truth = Nd4j.createFromArray(new double[][] {{1, 2, 3}, {4, 5, 6}});
        assertArrayEquals(new long[] {2, 3}, read.shape());
        // BUG: the column-major payload comes back as a C-order array: [[1, 4, 2], [5, 3, 6]]
        assertEquals(Nd4j.createFromArray(new double[][] {{1, 4, 2}, {5, 3, 6}}), read.castTo(DataType.DOUBLE));
        assertNotEquals(truth, read.castTo(DataType.DOUBLE));
    }

    @Test
    void npyReaderAbortsTheJvmOnABigEndianFile(@TempDir Path dir) throws IOException, InterruptedException {
        File f = npy(dir, "big_endian", "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 2), }",
                doubles(ByteOrder.BIG_ENDIAN, 1, 2, 3, 4));
        // In a child JVM: in this one, the bug would end the test run.
        // (run in the temporary folder, no core dump, any crash report kept there)
        Process child = new ProcessBuilder(new File(System.getProperty("java.home"), "bin/java").getPath(),
                "-XX:-CreateCoredumpOnCrash", "-XX:ErrorFile=" + dir.resolve("hs_err_%p.log"),
                "-cp", System.getProperty("java.class.path"), ReadNpy.class.getName(), f.getPath())
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.log").toFile())
                .start();
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "the child JVM did not end within 120 s");
        String log = Files.readString(dir.resolve("child.log"));
        // BUG: cnpy's native assert aborts the process (SIGABRT, exit 134) instead of throwing
        assertFalse(log.contains(ReadNpy.READ), "the big-endian file was read: " + log);
        assertFalse(log.contains(ReadNpy.THREW), "ND4J threw a Java exception instead of aborting: " + log);
        assertEquals(134, child.exitValue(), "exit status of the child JVM; its output: " + log);
    }

    /** Reads one {@code .npy} file with ND4J and says how that ended (for the big-endian test). */
    static final class ReadNpy {
        static final String READ = "gram4j-probe: read";
        static final String THREW = "gram4j-probe: threw";

        private ReadNpy() {
        }

        public static void main(String[] args) {
            try {
                INDArray a = Nd4j.createFromNpyFile(new File(args[0]));
                System.out.println(READ + " " + a);
            } catch (RuntimeException e) {
                System.out.println(THREW + " " + e);
            }
            System.exit(0);
        }
    }

    @Test
    void writeAsNumpyWritesAViewsBufferNotItsValues(@TempDir Path dir) throws IOException {
        INDArray base = Nd4j.createFromArray(new double[][] {{1, 2, 3}, {4, 5, 6}});
        INDArray view = base.transpose();                  // 3 × 2: [[1, 4], [2, 5], [3, 6]]
        File f = dir.resolve("view.npy").toFile();
        Nd4j.writeAsNumpy(view, f);
        INDArray read = Nd4j.createFromNpyFile(f).castTo(DataType.DOUBLE);
        assertArrayEquals(new long[] {3, 2}, read.shape());
        // BUG: the buffer (row-major [1 … 6]) is written under a C-order header of the view's shape
        assertEquals(Nd4j.createFromArray(new double[][] {{1, 2}, {3, 4}, {5, 6}}), read);
        assertNotEquals(view, read);
        // what gram-cli does instead: a C-order copy is written correctly
        File copy = dir.resolve("copy.npy").toFile();
        Nd4j.writeAsNumpy(view.dup('c'), copy);
        assertEquals(view, Nd4j.createFromNpyFile(copy).castTo(DataType.DOUBLE));
    }

    @Test
    void floatWholeArrayReductionsLoseDigits() {
        // B = 1024: a 1024 × 1024 FLOAT matrix of N(3, 1) entries, summed by ND4J and in double here
        Random random = new Random(1);
        float[] values = new float[1024 * 1024];
        double exact = 0;
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() + 3);
            exact += values[i];
        }
        INDArray x = Nd4j.createFromArray(values).reshape(1024, 1024);
        double sumError = Math.abs(x.sumNumber().doubleValue() - exact) / exact;
        double meanError = Math.abs(x.meanNumber().doubleValue() - exact / values.length) / (exact / values.length);
        // BUG (a limitation, in effect): the sum is accumulated in float. Rounding the exact sum to
        // float would err by at most 6e-8; measured 9.9e-6 here, more than 16 float ulps.
        assertTrue(sumError > 1e-6, "FLOAT sum relative error " + sumError);
        assertTrue(meanError > 1e-6, "FLOAT mean relative error " + meanError);
        double doubleError = Math.abs(x.castTo(DataType.DOUBLE).sumNumber().doubleValue() - exact) / exact;
        assertTrue(doubleError < 1e-12, "the same sum in DOUBLE: " + doubleError);
    }

    @Test
    void rowIntervalOfAColumnStridedViewCanHaveRankZero() {
        INDArray base = Nd4j.arange(20).castTo(DataType.DOUBLE).reshape(4, 5);
        INDArray columns = base.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 4));   // 4 × 3, strides [5, 1]
        assertArrayEquals(new long[] {4, 3}, columns.shape());
        INDArray lastRow = columns.get(NDArrayIndex.interval(3, 4), NDArrayIndex.all());
        // BUG: rows 0…2 come back as 1 × 3, the last one as a rank-0 array
        assertEquals(2, columns.get(NDArrayIndex.interval(0, 1), NDArrayIndex.all()).rank());
        assertEquals(0, lastRow.rank(), "shape " + java.util.Arrays.toString(lastRow.shape()));
        // what gram4j does instead: a C-order copy slices as expected
        INDArray fromCopy = columns.dup('c').get(NDArrayIndex.interval(3, 4), NDArrayIndex.all());
        assertArrayEquals(new long[] {1, 3}, fromCopy.shape());
        assertEquals(List.of(16.0, 17.0, 18.0), List.of(fromCopy.getDouble(0, 0), fromCopy.getDouble(0, 1),
                fromCopy.getDouble(0, 2)));
    }
}
