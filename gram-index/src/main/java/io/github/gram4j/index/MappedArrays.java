package io.github.gram4j.index;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.indexer.DoubleIndexer;
import org.bytedeco.javacpp.indexer.FloatIndexer;
import org.bytedeco.javacpp.indexer.Indexer;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Read-only memory maps of file ranges seen as ND4J arrays without copying: the array's buffer
 * points into the mapping (an external buffer, which ND4J never frees), so a gallery far larger
 * than the heap and than ND4J's off-heap limit is read through the page cache.
 *
 * <p>The returned {@link Mapped} keeps the mapping alive: hold it as long as the array is used
 * (a mapping is released only when its buffer is garbage collected). Only on backends whose
 * buffers are host memory (the CPU backend); elsewhere {@link #map} copies the range into a new
 * array instead.
 */
final class MappedArrays {

    private MappedArrays() {
    }

    /** A mapped array and the mapping that backs it. */
    record Mapped(INDArray array, MappedByteBuffer mapping) {
    }

    /**
     * Maps {@code rows × cols} elements of {@code type} (FLOAT or DOUBLE) starting at byte
     * {@code offset} of the open file as a c-order {@code rows × cols} array.
     *
     * @throws IllegalArgumentException if the range is beyond 2 GiB or the type is not FLOAT/DOUBLE
     */
    static Mapped map(FileChannel channel, long offset, DataType type, long rows, long cols) throws IOException {
        long elements = rows * cols;
        long bytes = elements * type.width();
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cannot map " + bytes + " bytes at once (at most 2 GiB); use smaller chunks");
        }
        MappedByteBuffer mapping = channel.map(FileChannel.MapMode.READ_ONLY, offset, bytes);
        mapping.order(ByteOrder.LITTLE_ENDIAN);
        INDArray array;
        if (!Nd4j.getEnvironment().isCPU()) {
            array = copy(mapping, type, rows, cols);
        } else if (type == DataType.FLOAT) {
            FloatPointer p = new FloatPointer(mapping.asFloatBuffer());
            array = wrap(p, FloatIndexer.create(p), type, elements, rows, cols);
        } else if (type == DataType.DOUBLE) {
            DoublePointer p = new DoublePointer(mapping.asDoubleBuffer());
            array = wrap(p, DoubleIndexer.create(p), type, elements, rows, cols);
        } else {
            throw new IllegalArgumentException("can map FLOAT or DOUBLE arrays, not " + type);
        }
        return new Mapped(array, mapping);
    }

    private static INDArray wrap(Pointer p, Indexer indexer, DataType type, long elements, long rows, long cols) {
        DataBuffer buffer = Nd4j.createBuffer(p, type, elements, indexer);
        return Nd4j.create(buffer, new long[] {rows, cols}, new long[] {cols, 1}, 0, 'c', type);
    }

    private static INDArray copy(MappedByteBuffer mapping, DataType type, long rows, long cols) {
        if (type == DataType.FLOAT) {
            float[] v = new float[Math.toIntExact(rows * cols)];
            mapping.asFloatBuffer().get(v);
            return Nd4j.create(v, new long[] {rows, cols}, 'c');
        }
        double[] v = new double[Math.toIntExact(rows * cols)];
        mapping.asDoubleBuffer().get(v);
        return Nd4j.create(v, new long[] {rows, cols}, 'c');
    }
}
