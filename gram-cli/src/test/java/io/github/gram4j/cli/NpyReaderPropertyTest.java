package io.github.gram4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Property-based tests of the {@code .npy} reader with seeded random files: valid files in every
 * layout numpy (and older numpy) writes are read exactly; random invalid headers, dtypes, shapes,
 * fortran flags, byte flips and truncations are refused with a {@link BadInputException} that
 * names the file; nothing else is ever thrown. The CLI turns each refusal into exit 2 and one
 * {@code error:} line. A fast sample runs by default; {@code -Preliability} runs the large one.
 */
class NpyReaderPropertyTest {

    @TempDir
    Path dir;

    /**
     * One generated file and what reading it must give: the values ({@code rowMajor} of
     * {@code rows × cols} in {@code type}), or a refusal ({@code mustRefuse}); a byte-flipped file
     * has neither and may go either way.
     */
    record Case(String description, byte[] bytes, double[] rowMajor, long rows, long cols, DataType type,
            boolean mustRefuse) {
    }

    /** Counts of one run. */
    record Counts(int cases, int read, int refused) {
    }

    @Test
    void aSampleOfRandomFilesIsReadExactlyOrRefusedClearly() throws IOException {
        Counts c = run(200, 10, 20260501L);
        assertEquals(200, c.read() + c.refused());
        assertTrue(c.read() > 30 && c.refused() > 100, c.toString()); // both kinds are really generated
    }

    @Test
    @Tag("reliability")
    void manyRandomFilesAreReadExactlyOrRefusedClearly() throws IOException {
        Counts c = run(20000, 400, 42L);
        System.out.printf("npy reader property: %d cases, %d read exactly, %d refused with a clear error, 0 crashes%n",
                c.cases(), c.read(), c.refused());
    }

    private Counts run(int cases, int cliCases, long seed) throws IOException {
        Random rnd = new Random(seed);
        int read = 0;
        int refused = 0;
        int cliRuns = 0;
        Path anchor = NpyTestFiles.write(dir.resolve("anchor.npy"), NpyTestFiles.random(1, 3, 3, DataType.DOUBLE));
        for (int n = 0; n < cases; n++) {
            Case c = rnd.nextInt(3) == 0 ? valid(rnd) : invalid(rnd);
            Path file = Files.write(dir.resolve("case" + n + ".npy"), c.bytes());
            String name = file.toString();
            INDArray x = null;
            try {
                x = NpyFiles.read(file, name);
            } catch (BadInputException e) {
                assertTrue(e.getMessage().startsWith(name + ": ") && !e.getMessage().contains("\n"),
                        c.description() + ": " + e.getMessage());
            } catch (Throwable t) {
                fail(c.description() + ": " + t, t);
            }
            if (x != null) {
                assertTrue(!c.mustRefuse(), c.description() + " was read but must be refused");
                assertEquals(2, x.rank(), c.description());
                assertTrue(x.dataType() == DataType.FLOAT || x.dataType() == DataType.DOUBLE, c.description());
                if (c.rowMajor() != null) {
                    assertEquals(c.type(), x.dataType(), c.description());
                    assertArrayEquals(new long[] {c.rows(), c.cols()}, x.shape(), c.description());
                    assertArrayEquals(c.rowMajor(), NpyTestFiles.rowMajor(x), 0.0, c.description());
                }
                read++;
            } else {
                assertTrue(c.rowMajor() == null, c.description() + " was refused but is valid");
                refused++;
                if (cliRuns < cliCases) {
                    cliRuns++;
                    CliRun.of("volume", "--anchor", anchor.toString(), "--inputs", name, "--out",
                            dir.resolve("V.npy").toString()).assertOneErrorLine(2, name + ": ");
                }
            }
            Files.delete(file);
        }
        return new Counts(cases, read, refused);
    }

    // ------------------------------------------------------------------ generators

    private static Case valid(Random rnd) {
        boolean f8 = rnd.nextBoolean();
        boolean fortran = rnd.nextBoolean();
        int rows = 1 + rnd.nextInt(5);
        int cols = 1 + rnd.nextInt(5);
        double[] values = new double[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = f8 ? rnd.nextGaussian() * Math.pow(10, rnd.nextInt(20) - 10) : (float) rnd.nextGaussian();
        }
        double[] stored = fortran ? columnMajor(values, rows, cols) : values;
        String dict = dict(rnd, "'" + (f8 ? "<f8" : "<f4") + "'", fortran ? "True" : "False",
                shape(rnd, rows, cols));
        byte[] data = NpyTestFiles.floats(stored, f8 ? 8 : 4, ByteOrder.LITTLE_ENDIAN);
        if (rnd.nextInt(5) == 0) {
            data = Arrays.copyOf(data, data.length + 1 + rnd.nextInt(7)); // trailing bytes are ignored, as numpy does
        }
        int major = 1 + rnd.nextInt(3);
        return new Case("valid v" + major + " " + dict, file(major, dict, data), values, rows, cols,
                f8 ? DataType.DOUBLE : DataType.FLOAT, false);
    }

    private static double[] columnMajor(double[] rowMajor, int rows, int cols) {
        double[] c = new double[rowMajor.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                c[j * rows + i] = rowMajor[i * cols + j];
            }
        }
        return c;
    }

    /** The header dict in any of the layouts numpy versions wrote: key order, quotes, spacing, commas. */
    private static String dict(Random rnd, String descr, String fortran, String shape) {
        List<String> entries = new ArrayList<>(List.of(q(rnd, "descr") + ":" + sp(rnd) + descr,
                q(rnd, "fortran_order") + ":" + sp(rnd) + fortran, q(rnd, "shape") + ":" + sp(rnd) + shape));
        Collections.shuffle(entries, rnd);
        return "{" + sp(rnd) + String.join("," + sp(rnd), entries) + (rnd.nextBoolean() ? ", " : "") + "}";
    }

    private static String shape(Random rnd, long... dims) {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            s.append(i == 0 ? "" : "," + sp(rnd)).append(dims[i]).append(rnd.nextInt(8) == 0 ? "L" : "");
        }
        if (dims.length == 1 || rnd.nextBoolean() && dims.length > 0) {
            s.append(',');
        }
        return s.append(')').toString();
    }

    private static String q(Random rnd, String key) {
        return rnd.nextInt(4) == 0 ? "\"" + key + "\"" : "'" + key + "'";
    }

    private static String sp(Random rnd) {
        return " ".repeat(rnd.nextInt(3));
    }

    private static final String[] BAD_DESCRS = {"'<i4'", "'<i8'", "'|u1'", "'|b1'", "'<f2'", "'<c8'", "'<c16'",
        "'>f8'", "'>f4'", "'|O'", "'<U3'", "'<M8[ns]'", "'f8'", "'<f16'", "''", "'<f'", "[('a', '<f4')]", "'<f4", "4",
        "'<f4' '<f8'", "'\\x3cf4'"};
    private static final String[] BAD_FORTRAN = {"1", "'True'", "true", "None", "Tru", "(True,)"};
    private static final String[] BAD_SHAPES = {"()", "(3,)", "(2, 3, 1)", "(0, 3)", "(3, 0)", "(-1, 3)", "(3)",
        "[3, 3]", "(3, 3", "(1099511627776, 1099511627776)", "(99999999999999999999, 1)", "(3,, 3)", "(a, 3)",
        "(3 3)", "(2147483648, 2147483648)"};

    private static Case invalid(Random rnd) {
        int kind = rnd.nextInt(7);
        int rows = 1 + rnd.nextInt(4);
        int cols = 1 + rnd.nextInt(4);
        byte[] data = NpyTestFiles.floats(new double[rows * cols], 8, ByteOrder.LITTLE_ENDIAN);
        String good = dict(rnd, "'<f8'", "False", shape(rnd, rows, cols));
        byte[] whole = file(1, good, data);
        switch (kind) {
            case 0: {
                String d = BAD_DESCRS[rnd.nextInt(BAD_DESCRS.length)];
                return refusal("descr " + d, file(1, dict(rnd, d, "False", shape(rnd, rows, cols)), data));
            }
            case 1: {
                String f = BAD_FORTRAN[rnd.nextInt(BAD_FORTRAN.length)];
                return refusal("fortran_order " + f, file(1, dict(rnd, "'<f8'", f, shape(rnd, rows, cols)), data));
            }
            case 2: {
                String s = BAD_SHAPES[rnd.nextInt(BAD_SHAPES.length)];
                return refusal("shape " + s, file(1, dict(rnd, "'<f8'", "False", s), data));
            }
            case 3: {
                int cut = rnd.nextInt(whole.length); // any proper prefix, the empty file included
                return refusal("truncated to " + cut + " of " + whole.length, Arrays.copyOf(whole, cut));
            }
            case 4: {
                // the data of a bigger shape than the file holds
                return refusal("short data", file(1, dict(rnd, "'<f8'", "False", shape(rnd, rows + 1, cols)), data));
            }
            case 5: {
                // a byte of the preamble or header replaced: usually refused, sometimes still a valid file
                byte[] b = whole.clone();
                int at = rnd.nextInt(Math.min(b.length, 10 + good.length() + 1));
                b[at] = (byte) rnd.nextInt(256);
                return new Case("byte " + at + " flipped in " + good, b, null, 0, 0, null, false);
            }
            default: {
                String[] junk = {"", "{", "{}", "{'descr': '<f8'}", "{'descr': '<f8', 'fortran_order': False, 'shape': (1,"
                    + " 1), 'extra': 1}", "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1, 1)}",
                    "not a dict", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1)} trailing",
                    "{'descr': '<f8' 'fortran_order': False, 'shape': (1, 1)}"};
                String j = junk[rnd.nextInt(junk.length)];
                return refusal("header " + j, file(1 + rnd.nextInt(3), j, data));
            }
        }
    }

    private static Case refusal(String description, byte[] bytes) {
        return new Case(description, bytes, null, 0, 0, null, true);
    }

    /** Magic, version, header length, the dict padded with spaces and a newline to 64 bytes, data. */
    private static byte[] file(int major, String dict, byte[] data) {
        int lenBytes = major == 1 ? 2 : 4;
        StringBuilder header = new StringBuilder(dict);
        while ((8 + lenBytes + header.length() + 1) % 64 != 0) {
            header.append(' ');
        }
        header.append('\n');
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0}, 0, 8);
        ByteBuffer len = ByteBuffer.allocate(lenBytes).order(ByteOrder.LITTLE_ENDIAN);
        if (lenBytes == 2) {
            len.putShort((short) h.length);
        } else {
            len.putInt(h.length);
        }
        out.write(len.array(), 0, lenBytes);
        out.write(h, 0, h.length);
        out.write(data, 0, data.length);
        return out.toByteArray();
    }
}
