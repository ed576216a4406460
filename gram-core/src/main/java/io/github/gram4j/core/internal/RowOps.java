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
