package io.github.gram4j.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Writes .npy test inputs: with ND4J, or byte by byte for what ND4J cannot write. */
final class NpyTestFiles {

    private NpyTestFiles() {
    }

    /** A {@code rows × cols} array of seeded standard-normal values in {@code dataType}. */
    static INDArray random(long seed, int rows, int cols, DataType dataType) {
        Random rnd = new Random(seed);
        double[][] v = new double[rows][cols];
        for (double[] row : v) {
            for (int j = 0; j < cols; j++) {
                row[j] = rnd.nextGaussian();
            }
        }
        return Nd4j.create(v).castTo(dataType);
    }

    /** Writes {@code a} with ND4J's own npy writer, as users of the library would. */
    static Path write(Path file, INDArray a) throws IOException {
        Nd4j.writeAsNumpy(a, file.toFile());
        return file;
    }

    /**
     * Writes a version-1.0 npy file with numpy's header layout:
     * {@code {'descr': D, 'fortran_order': F, 'shape': S, }} padded with spaces and a newline to a
     * multiple of 64 bytes.
     */
    static Path writeRaw(Path file, String descr, boolean fortranOrder, String shape, byte[] data) throws IOException {
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortranOrder ? "True" : "False")
                + ", 'shape': " + shape + ", }";
        return writeRaw(file, 1, 0, dict, data);
    }

    /** Writes magic, version, the header {@code dict} (padded as numpy pads it) and {@code data}. */
    static Path writeRaw(Path file, int major, int minor, String dict, byte[] data) throws IOException {
        int lenBytes = major == 1 ? 2 : 4;
        int preamble = 6 + 2 + lenBytes;
        StringBuilder header = new StringBuilder(dict);
        while ((preamble + header.length() + 1) % 64 != 0) {
            header.append(' ');
        }
        header.append('\n');
        byte[] h = header.toString().getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, (byte) minor});
        ByteBuffer len = ByteBuffer.allocate(lenBytes).order(ByteOrder.LITTLE_ENDIAN);
        if (lenBytes == 2) {
            len.putShort((short) h.length);
        } else {
            len.putInt(h.length);
        }
        out.write(len.array());
        out.write(h);
        out.write(data);
        Files.write(file, out.toByteArray());
        return file;
    }

    /** {@code values} as float64 ({@code itemSize} 8) or float32 (4) in {@code order}. */
    static byte[] floats(double[] values, int itemSize, ByteOrder order) {
        ByteBuffer b = ByteBuffer.allocate(values.length * itemSize).order(order);
        for (double v : values) {
            if (itemSize == 8) {
                b.putDouble(v);
            } else {
                b.putFloat((float) v);
            }
        }
        return b.array();
    }

    /** {@code n} little-endian integers {@code 0..n-1} of {@code itemSize} bytes. */
    static byte[] ints(int n, int itemSize) {
        ByteBuffer b = ByteBuffer.allocate(n * itemSize).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            if (itemSize == 8) {
                b.putLong(i);
            } else if (itemSize == 4) {
                b.putInt(i);
            } else if (itemSize == 2) {
                b.putShort((short) i);
            } else {
                b.put((byte) i);
            }
        }
        return b.array();
    }

    /** The values of a 2-D array in column-major order (the data of a Fortran-order npy). */
    static double[] columnMajor(INDArray a) {
        return a.dup('f').data().asDouble();
    }

    /** The values of an array in row-major order. */
    static double[] rowMajor(INDArray a) {
        return a.dup('c').reshape(a.length()).toDoubleVector();
    }

    /** Writes {@code arrays} into {@code dir} as anchor.npy, x1.npy, … and returns the paths. */
    static List<Path> writeAll(Path dir, List<INDArray> arrays) throws IOException {
        List<Path> paths = new ArrayList<>();
        for (int m = 0; m < arrays.size(); m++) {
            paths.add(write(dir.resolve(m == 0 ? "anchor.npy" : "x" + m + ".npy"), arrays.get(m)));
        }
        return paths;
    }

    /** The paths as one comma-separated option value. */
    static String joined(List<Path> paths) {
        return paths.stream().map(Path::toString).collect(Collectors.joining(","));
    }
}
