package io.github.gram4j.core.fast;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import io.github.gram4j.core.NumericalPolicy;
import io.github.gram4j.core.internal.HostArray;
import io.github.gram4j.core.internal.HostRows;
import io.github.gram4j.core.internal.Lanes;
import io.github.gram4j.core.internal.RowOps;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Per-candidate orthonormal bases of the candidate batches: for every candidate row {@code j},
 * the {@code K} vectors {@code x_{0,j} … x_{K−1,j}} factored as {@code X_jᵀ = Q_j R_j} with
 * orthonormal {@code q_{m,j}} and upper-triangular {@code R_j} whose diagonal is
 * {@code ρ_{m,j} ≥ 0}.
 *
 * <p>Computed by Gram–Schmidt with one re-orthogonalisation pass ("twice is enough"), so the
 * {@code q} are orthonormal to working precision even for nearly collinear candidates: on the CPU
 * backend row by row on the host in double precision (rows in parallel), elsewhere with ND4J ops
 * vectorised over {@code j} (each step a row-wise dot and a row-wise axpy on {@code B2 × d}
 * matrices). A candidate
 * vector that lies in the span of the previous ones (or is zero) gets {@code ρ = 0} (or the tiny
 * true value) and its {@code q} row is scaled by {@code 1/max(ρ, tiny)} instead of {@code 1/ρ},
 * so nothing divides by zero.
 *
 * <p>The determinant of the candidates' own Gram matrix is {@code det C_j = Π_m ρ_{m,j}²}.
 *
 * <p>The arrays live in whatever ND4J workspace was active when {@link #of} ran; they are valid
 * while it is open. Not thread-safe to share across threads while a workspace scope is open.
 */
public final class CandidateBasis {

    private final INDArray stacked;
    private final List<INDArray> q;
    private final List<INDArray> rho;
    private final INDArray[][] r;
    private final INDArray rhoProduct;

    private CandidateBasis(INDArray stacked, List<INDArray> rho, INDArray[][] r, INDArray rhoProduct) {
        this.stacked = stacked;
        int kk = rho.size();
        long rows = stacked.size(0) / kk;
        List<INDArray> views = new ArrayList<>(kk);
        for (int m = 0; m < kk; m++) {
            views.add(kk == 1 ? stacked : stacked.get(NDArrayIndex.interval(m * rows, (m + 1) * rows), NDArrayIndex.all()));
        }
        this.q = Collections.unmodifiableList(views);
        this.rho = rho;
        this.r = r;
        this.rhoProduct = rhoProduct;
    }

    /**
     * Orthonormalises the candidate batches: on the host, row by row in double precision, when
     * ND4J's buffers are host memory (CPU backend); otherwise with ND4J ops vectorised over rows.
     *
     * @param candidates {@code K ≥ 1} validated batches, {@code B2 × d} each, FLOAT or DOUBLE
     * @return the orthonormal bases and residual norms of every candidate row
     */
    public static CandidateBasis of(List<INDArray> candidates) {
        return of(candidates, HostArray.available());
    }

    static CandidateBasis of(List<INDArray> candidates, boolean onHost) {
        return onHost ? onHost(candidates) : withOps(candidates);
    }

    private static double tiny(DataType type) {
        return NumericalPolicy.tiny(type);
    }

    /** Gram–Schmidt per candidate row on the host, accumulated in double, rows in parallel. */
    private static CandidateBasis onHost(List<INDArray> candidates) {
        int kk = candidates.size();
        DataType type = candidates.get(0).dataType();
        int rows = (int) candidates.get(0).size(0);
        int dim = (int) candidates.get(0).size(1);
        double tiny = tiny(type);
        HostArray[] xs = new HostArray[kk];
        for (int m = 0; m < kk; m++) {
            xs[m] = HostArray.ofAny(candidates.get(m));
        }
        INDArray stacked = Nd4j.createUninitialized(type, new long[] {(long) kk * rows, dim}, 'c');
        HostArray qHost = HostArray.of(stacked);
        double[][][] r = new double[kk][kk][rows];
        Lanes lanes = Lanes.get();
        HostRows.forEach(rows, () -> new double[kk][dim], (j, v) -> {
            for (int m = 0; m < kk; m++) {
                double[] vm = v[m];
                xs[m].read((long) j * dim, vm, dim);
                for (int pass = 0; pass < 2; pass++) {
                    for (int l = 0; l < m; l++) {
                        double c = lanes.dot(v[l], vm, dim);
                        lanes.axpy(-c, v[l], vm, dim);
                        r[l][m][j] += c;
                    }
                }
                double rho = Math.sqrt(lanes.dot(vm, vm, dim));
                lanes.scale(vm, 1.0 / Math.max(rho, tiny), dim);
                r[m][m][j] = rho;
                qHost.write(((long) m * rows + j) * dim, vm, dim);
            }
        });
        double[] product = new double[rows];
        java.util.Arrays.fill(product, 1.0);
        INDArray[][] coefficients = new INDArray[kk][kk];
        List<INDArray> rhos = new ArrayList<>(kk);
        for (int m = 0; m < kk; m++) {
            for (int l = 0; l <= m; l++) {
                coefficients[l][m] = RowOps.vector(r[l][m], type);
            }
            rhos.add(coefficients[m][m]);
            for (int j = 0; j < rows; j++) {
                product[j] *= r[m][m][j];
            }
        }
        return new CandidateBasis(stacked, Collections.unmodifiableList(rhos), coefficients,
                RowOps.vector(product, type));
    }

    /** Gram–Schmidt with ND4J ops, each step vectorised over the candidate rows (any backend). */
    private static CandidateBasis withOps(List<INDArray> candidates) {
        int kk = candidates.size();
        double tiny = tiny(candidates.get(0).dataType());
        List<INDArray> qs = new ArrayList<>(kk);
        List<INDArray> rhos = new ArrayList<>(kk);
        INDArray[][] r = new INDArray[kk][kk];
        INDArray product = null;
        for (int m = 0; m < kk; m++) {
            INDArray v = candidates.get(m).dup('c');
            for (int pass = 0; pass < 2; pass++) {
                for (int l = 0; l < m; l++) {
                    INDArray c = RowOps.rowDots(qs.get(l), v);
                    RowOps.subtractScaledRows(v, c, qs.get(l));
                    r[l][m] = pass == 0 ? c : r[l][m].addi(c);
                }
            }
            INDArray norm = v.norm2(1);
            v.diviColumnVector(Transforms.max(norm, tiny, true).reshape(norm.length(), 1));
            qs.add(v);
            rhos.add(norm);
            r[m][m] = norm;
            product = product == null ? norm.dup() : product.muli(norm);
        }
        return new CandidateBasis(kk == 1 ? qs.get(0) : Nd4j.concat(0, qs.toArray(INDArray[]::new)),
                Collections.unmodifiableList(rhos), r, product);
    }

    /** {@return {@code K}: the number of candidate modalities} */
    public int size() {
        return q.size();
    }

    /**
     * All bases in one c-order matrix, {@code K·B2 × d}: rows {@code m·B2 … (m + 1)·B2 − 1} are
     * {@link #q q(m)}. One GEMM against it computes every {@code a_i·q_{m,j}} at once.
     *
     * @return the stacked bases, {@code K·B2 × d}
     */
    public INDArray stacked() {
        return stacked;
    }

    /**
     * Frees the off-heap memory of the bases and coefficients now, instead of when the garbage
     * collector finds them (for callers outside a workspace, e.g. writing many index chunks).
     * The basis must not be used afterwards.
     */
    public void release() {
        java.util.Set<INDArray> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        seen.add(stacked);
        seen.add(rhoProduct);
        for (INDArray[] row : r) {
            for (INDArray x : row) {
                if (x != null) {
                    seen.add(x);
                }
            }
        }
        for (INDArray x : seen) {
            if (x.closeable()) {
                x.close();
            }
        }
    }

    /**
     * {@code Q_m}: row {@code j} is the unit vector {@code q_{m,j}}, {@code B2 × d} (a view of
     * {@link #stacked()} when {@code K > 1}).
     *
     * @param m the candidate modality, {@code 0 ≤ m < K}
     * @return {@code Q_m}, {@code B2 × d}
     */
    public INDArray q(int m) {
        return q.get(m);
    }

    /**
     * {@code ρ_m}: the {@code B2} residual norms {@code ρ_{m,j}} (the diagonal of {@code R_j}).
     *
     * @param m the candidate modality, {@code 0 ≤ m < K}
     * @return {@code ρ_m}, {@code B2} entries
     */
    public INDArray rho(int m) {
        return rho.get(m);
    }

    /**
     * Entry {@code (l, m)} of every {@code R_j} as a {@code B2} vector, {@code l ≤ m}:
     * {@code r_{lm,j} = q_{l,j}·x_{m,j}}; the diagonal is {@link #rho}.
     *
     * @param l the row of {@code R_j}, {@code 0 ≤ l ≤ m}
     * @param m the column of {@code R_j}, {@code m < K}
     * @return {@code r_{lm,j}} for every {@code j}, {@code B2} entries
     * @throws IllegalArgumentException if {@code l > m} (those entries are zero)
     */
    public INDArray r(int l, int m) {
        if (l > m) {
            throw new IllegalArgumentException("R is upper triangular: r(" + l + ", " + m + ") is zero");
        }
        return r[l][m];
    }

    /** {@return {@code Π_m ρ_{m,j}} for every candidate row: {@code sqrt(det C_j)}, a {@code B2} vector} */
    public INDArray rhoProduct() {
        return rhoProduct;
    }
}
