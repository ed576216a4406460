package io.github.gram4j.core.testing;

import java.util.Random;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Seeded random test matrices, independent of ND4J's global random generator. */
public final class RandomArrays {

    private RandomArrays() {
    }

    /** A {@code rows × cols} matrix of standard normal values in {@code type}. */
    public static INDArray gaussian(Random random, int rows, int cols, DataType type) {
        double[][] values = new double[rows][cols];
        for (double[] row : values) {
            for (int c = 0; c < cols; c++) {
                row[c] = random.nextGaussian();
            }
        }
        return Nd4j.create(values).castTo(type);
    }

    /** {@code count} independent {@code rows × cols} Gaussian batches in {@code type}. */
    public static INDArray[] gaussianBatches(Random random, int count, int rows, int cols, DataType type) {
        INDArray[] batches = new INDArray[count];
        for (int m = 0; m < count; m++) {
            batches[m] = gaussian(random, rows, cols, type);
        }
        return batches;
    }

    /** {@code count} orthonormal rows in {@code dim} dimensions ({@code count ≤ dim}), as doubles. */
    public static double[][] orthonormalRows(Random random, int count, int dim) {
        double[][] q = new double[count][dim];
        for (int m = 0; m < count; m++) {
            for (int c = 0; c < dim; c++) {
                q[m][c] = random.nextGaussian();
            }
            for (int pass = 0; pass < 2; pass++) {
                for (int l = 0; l < m; l++) {
                    double dot = 0;
                    for (int c = 0; c < dim; c++) {
                        dot += q[l][c] * q[m][c];
                    }
                    for (int c = 0; c < dim; c++) {
                        q[m][c] -= dot * q[l][c];
                    }
                }
            }
            double norm = 0;
            for (double v : q[m]) {
                norm += v * v;
            }
            norm = Math.sqrt(norm);
            for (int c = 0; c < dim; c++) {
                q[m][c] /= norm;
            }
        }
        return q;
    }
}
