package io.github.gram4j.core.internal;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce3.Dot;
import org.nd4j.linalg.factory.Nd4j;

/** Row-wise kernels on {@code n × d} matrices, allocation-free apart from their result. */
public final class RowOps {

    private RowOps() {
    }

    /** {@code out[r] = x[r]·y[r]}: the {@code n} row dot products of two {@code n × d} matrices. */
    public static INDArray rowDots(INDArray x, INDArray y) {
        INDArray out = Nd4j.createUninitialized(x.dataType(), x.size(0));
        Nd4j.getExecutioner().exec(new Dot(x, y, out, 1));
        return out;
    }

    /**
     * {@code out[r] = |x[r]|²}, rounded to {@code x}'s dtype: on the CPU backend one host pass
     * accumulating in double, rows in parallel (a FLOAT row whose squared norm exceeds the dtype
     * gives {@code +∞}, as ND4J's own reduction does); elsewhere {@link #rowDots rowDots(x, x)}.
     *
     * @param x {@code n × d}, FLOAT or DOUBLE
     * @return the {@code n} squared row norms, in {@code x}'s dtype
     */
    public static INDArray squaredNorms(INDArray x) {
        boolean host = HostArray.available() && x.rank() == 2 && x.ordering() == 'c' && x.elementWiseStride() == 1
                && (x.dataType() == DataType.FLOAT || x.dataType() == DataType.DOUBLE);
        if (!host) {
            return rowDots(x, x);
        }
        int rows = (int) x.size(0);
        int dim = (int) x.size(1);
        HostArray in = HostArray.of(x);
        double[] squares = new double[rows];
        Lanes lanes = Lanes.get();
        HostRows.forEach(rows, () -> new double[dim], (r, row) -> {
            in.read((long) r * dim, row, dim);
            squares[r] = lanes.dot(row, row, dim);
        });
        INDArray out = Nd4j.createUninitialized(x.dataType(), rows);
        HostArray.of(out).write(0, squares, rows);
        return out;
    }

    /**
     * The entries of {@code x} (any shape, c-order) as doubles: read directly from host memory on
     * the CPU backend (no ND4J op), through a cast elsewhere.
     *
     * @param x a FLOAT or DOUBLE array (other dtypes are cast)
     * @return its entries in c-order
     */
    public static double[] toDoubles(INDArray x) {
        if (HostArray.available() && (x.dataType() == DataType.FLOAT || x.dataType() == DataType.DOUBLE)
                && (x.ordering() == 'c' || x.isVector()) && x.elementWiseStride() == 1) {
            double[] values = new double[(int) x.length()];
            HostArray.of(x).read(0, values, values.length);
            return values;
        }
        return x.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    /**
     * A new vector of {@code values} rounded to {@code type} (FLOAT or DOUBLE), written directly on
     * the CPU backend (no ND4J cast op), in the current workspace if one is active.
     *
     * @param values the entries
     * @param type FLOAT or DOUBLE
     * @return a vector of {@code values.length} entries
     */
    public static INDArray vector(double[] values, DataType type) {
        if (HostArray.available() && (type == DataType.FLOAT || type == DataType.DOUBLE)) {
            INDArray out = Nd4j.createUninitialized(type, values.length);
            HostArray.of(out).write(0, values, values.length);
            return out;
        }
        return Nd4j.createFromArray(values).castTo(type);
    }

    /**
     * The column sums of an {@code n × m} matrix, as a GEMV with a ones vector: ND4J's
     * {@code sum(0)} on a c-order matrix walks strided columns and is an order of magnitude slower.
     */
    public static INDArray columnSums(INDArray x) {
        INDArray ones = Nd4j.ones(x.dataType(), 1, x.size(0));
        return Nd4j.gemm(ones, x, false, false).reshape(x.size(1));
    }

    /** {@code x[r] -= c[r] · y[r]} for every row {@code r}; {@code c} has {@code n} entries. */
    public static void subtractScaledRows(INDArray x, INDArray c, INDArray y) {
        x.subi(y.mulColumnVector(c.reshape(c.length(), 1)));
    }
}
