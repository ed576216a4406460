package io.github.gram4j.core.internal;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Direct element access to a c-contiguous FLOAT or DOUBLE array in host memory, for the fused
 * loops of the CPU backend. Values are read and written as doubles; a loop over one instance sees
 * at most two receiver classes, which HotSpot inlines.
 *
 * <p>Indices are {@code long}: arrays of any length are covered, through NIO buffers of at most
 * {@value #SEGMENT_ELEMENTS} elements each (one NIO buffer cannot exceed 2³¹ − 1 bytes).
 *
 * <p>Only valid where {@link #available()} (the ND4J CPU backend, whose buffers are host memory),
 * and only while the array's memory is alive.
 */
public abstract class HostArray {

    /** log₂ of the elements per NIO segment. */
    static final int SEGMENT_SHIFT = 27;

    /** Elements per NIO segment: 2²⁷ (512 MB of FLOAT, 1 GB of DOUBLE). */
    static final long SEGMENT_ELEMENTS = 1L << SEGMENT_SHIFT;

    final int shift;
    final long mask;
    final long length;

    private HostArray(int shift, long length) {
        this.shift = shift;
        this.mask = (1L << shift) - 1;
        this.length = length;
    }

    /** True when ND4J's buffers live in host memory (the CPU backend). */
    public static boolean available() {
        return Nd4j.getEnvironment().isCPU();
    }

    /**
     * A view of {@code array}'s elements in c-order.
     *
     * @throws IllegalArgumentException if the array is not c-contiguous or not FLOAT/DOUBLE
     */
    public static HostArray of(INDArray array) {
        return of(array, SEGMENT_SHIFT);
    }

    static HostArray of(INDArray array, int shift) {
        boolean cOrder = array.ordering() == 'c' || array.rank() <= 1 || array.isVector();
        if (!cOrder || array.elementWiseStride() != 1) {
            throw new IllegalArgumentException("need a c-contiguous array, got order " + array.ordering()
                    + " with element-wise stride " + array.elementWiseStride());
        }
        long length = array.length();
        Pointer base = array.data().pointer();
        long offset = array.offset();
        int segments = (int) ((length + (1L << shift) - 1) >>> shift);
        if (array.dataType() == DataType.FLOAT) {
            FloatBuffer[] buffers = new FloatBuffer[segments];
            for (int g = 0; g < segments; g++) {
                long from = offset + ((long) g << shift);
                long to = Math.min(offset + length, from + (1L << shift));
                // getPointer moves the address itself: JavaCPP's asBuffer() of a position beyond 2³¹ − 1 bytes overflows
                FloatPointer segment = new FloatPointer(base).getPointer(from);
                buffers[g] = segment.position(0).limit(to - from).capacity(to - from).asBuffer();
            }
            return new Floats(buffers, shift, length);
        }
        if (array.dataType() == DataType.DOUBLE) {
            DoubleBuffer[] buffers = new DoubleBuffer[segments];
            for (int g = 0; g < segments; g++) {
                long from = offset + ((long) g << shift);
                long to = Math.min(offset + length, from + (1L << shift));
                DoublePointer segment = new DoublePointer(base).getPointer(from);
                buffers[g] = segment.position(0).limit(to - from).capacity(to - from).asBuffer();
            }
            return new Doubles(buffers, shift, length);
        }
        throw new IllegalArgumentException("need FLOAT or DOUBLE, got " + array.dataType());
    }

    /**
     * As {@link #of}, after copying {@code array} to a c-order array first when it is not
     * c-contiguous (the copy goes to the current workspace).
     */
    public static HostArray ofAny(INDArray array) {
        return of(array.ordering() == 'c' && array.elementWiseStride() == 1 ? array : array.dup('c'));
    }

    /** The number of elements. */
    public long length() {
        return length;
    }

    /** Element {@code i} (c-order) as a double. */
    public abstract double get(long i);

    /** Sets element {@code i} (c-order), rounding to the array's dtype. */
    public abstract void set(long i, double value);

    /** Copies elements {@code from … from + n − 1} (c-order) into {@code dst[0 … n − 1]}. */
    public void read(long from, double[] dst, int n) {
        read(from, dst, n, 0);
    }

    /** Copies elements {@code from … from + n − 1} (c-order) into {@code dst[dstFrom … dstFrom + n − 1]}. */
    public void read(long from, double[] dst, int n, int dstFrom) {
        if (n == 0) {
            return; // also for an empty array, which has no segment
        }
        int inSegment = (int) (from & mask);
        if (inSegment + (long) n <= mask + 1) {
            readSegment((int) (from >>> shift), inSegment, dst, dstFrom, n);
        } else {
            acrossSegments(from, dst, dstFrom, n, true);
        }
    }

    /** Copies {@code src[0 … n − 1]} into elements {@code from … from + n − 1}, rounding to the dtype. */
    public void write(long from, double[] src, int n) {
        if (n == 0) {
            return; // also for an empty array, which has no segment
        }
        int inSegment = (int) (from & mask);
        if (inSegment + (long) n <= mask + 1) {
            writeSegment((int) (from >>> shift), inSegment, src, 0, n);
        } else {
            acrossSegments(from, src, 0, n, false);
        }
    }

    /**
     * Copies elements {@code from … from + n − 1} (c-order) of a FLOAT array into
     * {@code dst[dstFrom … dstFrom + n − 1]}, without conversion.
     *
     * @throws UnsupportedOperationException for a DOUBLE array
     */
    public void readFloats(long from, float[] dst, int n, int dstFrom) {
        throw new UnsupportedOperationException("not a FLOAT array");
    }


    /** A read or write of {@code n} elements from {@code from} that crosses segment boundaries. */
    private void acrossSegments(long from, double[] values, int offset, int n, boolean read) {
        int done = 0;
        while (done < n) {
            long at = from + done;
            int segment = (int) (at >>> shift);
            int inSegment = (int) (at & mask);
            int count = (int) Math.min(n - done, mask + 1 - inSegment);
            if (read) {
                readSegment(segment, inSegment, values, offset + done, count);
            } else {
                writeSegment(segment, inSegment, values, offset + done, count);
            }
            done += count;
        }
    }

    abstract void readSegment(int segment, int from, double[] dst, int dstFrom, int n);

    abstract void writeSegment(int segment, int from, double[] src, int srcFrom, int n);

    private static final Lanes LANES = Lanes.get();

    /** Per-thread staging for float rows: row copies would otherwise allocate on every call. */
    private static final ThreadLocal<float[]> FLOAT_ROW = ThreadLocal.withInitial(() -> new float[0]);

    private static float[] scratch(int n) {
        float[] row = FLOAT_ROW.get();
        if (row.length < n) {
            row = new float[n];
            FLOAT_ROW.set(row);
        }
        return row;
    }

    private static final class Floats extends HostArray {
        private final FloatBuffer[] buffers;

        Floats(FloatBuffer[] buffers, int shift, long length) {
            super(shift, length);
            this.buffers = buffers;
        }

        @Override
        public double get(long i) {
            return buffers[(int) (i >>> shift)].get((int) (i & mask));
        }

        @Override
        public void set(long i, double value) {
            buffers[(int) (i >>> shift)].put((int) (i & mask), (float) value);
        }

        @Override
        public void readFloats(long from, float[] dst, int n, int dstFrom) {
            int done = 0;
            while (done < n) {
                long at = from + done;
                int inSegment = (int) (at & mask);
                int count = (int) Math.min(n - done, mask + 1 - inSegment);
                buffers[(int) (at >>> shift)].get(inSegment, dst, dstFrom + done, count);
                done += count;
            }
        }

        @Override
        void readSegment(int segment, int from, double[] dst, int dstFrom, int n) {
            float[] tmp = scratch(n);
            buffers[segment].get(from, tmp, 0, n);
            LANES.widen(tmp, 0, dst, dstFrom, n);
        }

        @Override
        void writeSegment(int segment, int from, double[] src, int srcFrom, int n) {
            float[] tmp = scratch(n);
            LANES.narrow(src, srcFrom, tmp, 0, n);
            buffers[segment].put(from, tmp, 0, n);
        }
    }

    private static final class Doubles extends HostArray {
        private final DoubleBuffer[] buffers;

        Doubles(DoubleBuffer[] buffers, int shift, long length) {
            super(shift, length);
            this.buffers = buffers;
        }

        @Override
        public double get(long i) {
            return buffers[(int) (i >>> shift)].get((int) (i & mask));
        }

        @Override
        public void set(long i, double value) {
            buffers[(int) (i >>> shift)].put((int) (i & mask), value);
        }

        @Override
        void readSegment(int segment, int from, double[] dst, int dstFrom, int n) {
            buffers[segment].get(from, dst, dstFrom, n);
        }

        @Override
        void writeSegment(int segment, int from, double[] src, int srcFrom, int n) {
            buffers[segment].put(from, src, srcFrom, n);
        }
    }
}
