package io.github.gram4j.core.fast;

import java.util.ArrayList;
import java.util.List;

import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.internal.RowOps;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The FAST forward pass, keeping what its backward needs: the candidate bases, the GEMM outputs
 * {@code w_m = A·Q_mᵀ}, the squared distances {@code s} and the volumes. Then
 * {@link #backward} maps {@code g = ∂L/∂V} to the gradients of the anchor and candidate batches
 * with {@code 2K} GEMMs and {@code O(B1·B2·K²)} elementwise work — never a per-pair loop, never
 * the {@code (B1, B2, k, k)} tensor.
 *
 * <p>Identities (per pair, {@code c = g·V/s}, {@code y = R⁻¹w}, {@code C⁻¹ = R⁻¹R⁻ᵀ}):
 * {@code ∂L/∂a_i = a_i Σ_j c_ij − Σ_m Σ_j c_ij w_{m,ij} q_{m,j}} and
 * {@code ∂L/∂x_{m,j} = −Σ_i c_ij y_{m,ij} a_i + Σ_l [C⁻¹_{ml,j} Σ_i g_ij V_ij
 * + Σ_i c_ij y_{m,ij} y_{l,ij}] x_{l,j}}.
 *
 * <p><b>Degenerate floor.</b> The gradient of a volume is bounded, but these formulas reach it
 * through quotients that are 0/0 at degenerate tuples. So {@code s} is floored at
 * {@code η·|a_i|²} and each {@code ρ_{m,j}} at {@code sqrt(η)·|x_{m,j}|}, with
 * {@code η = 64 ulp(1)} of the dtype ({@link #floor}: 1.4e-14 in DOUBLE, 7.6e-6 in FLOAT). Above
 * the floor the gradient is exact; below it (a volume under ~{@code sqrt(η)} of its scale, where
 * rounding already dominates its direction) it is damped towards zero. Zero vectors give zero
 * gradient contributions. Gradients are always finite.
 *
 * <p>All arrays, including the gradients, are allocated in the workspace that is current when
 * {@link #record} and {@link #backward} run: open one around both, and detach what you keep.
 * One tape per thread.
 */
public final class VolumeTape {

    private final ModalityBatches batches;
    private final CandidateBasis basis;
    private final List<INDArray> w;
    private final INDArray s;
    private final INDArray volumes;

    private VolumeTape(ModalityBatches batches, CandidateBasis basis, List<INDArray> w, INDArray s,
            INDArray volumes) {
        this.batches = batches;
        this.basis = basis;
        this.w = w;
        this.s = s;
        this.volumes = volumes;
    }

    /** {@code η} for a dtype: 64 units in the last place of 1. */
    public static double floor(DataType type) {
        return 64 * (type == DataType.DOUBLE ? Math.ulp(1.0) : Math.ulp(1.0f));
    }

    /** Runs the forward pass of the pairwise volume of validated batches. */
    public static VolumeTape record(ModalityBatches batches) {
        CandidateBasis basis = CandidateBasis.of(batches.candidates());
        INDArray anchor = batches.anchor();
        DataType type = batches.dataType();
        long b1 = batches.anchorRows();
        long b2 = batches.candidateRows();
        List<INDArray> w = new ArrayList<>(basis.size());
        INDArray s = Nd4j.createUninitialized(type, new long[] {b1, b2}, 'c');
        for (int m = 0; m < basis.size(); m++) {
            INDArray wm = Nd4j.gemm(anchor, basis.q(m), Nd4j.createUninitialized(type, new long[] {b1, b2}, 'c'),
                    false, true, 1.0, 0.0);
            w.add(wm);
            if (m == 0) {
                s.assign(wm).muli(wm);
            } else {
                s.addi(wm.mul(wm));
            }
        }
        s.rsubiColumnVector(batches.anchorSquaredNorms().reshape(b1, 1));
        INDArray volumes = Transforms.relu(s, true);
        Transforms.sqrt(volumes, false);
        volumes.muliRowVector(basis.rhoProduct().reshape(1, b2));
        return new VolumeTape(batches, basis, w, s, volumes);
    }

    /** {@code V}, {@code B1 × B2}, in the batches' dtype. */
    public INDArray volumes() {
        return volumes;
    }

    /** The validated inputs this tape was recorded on. */
    public ModalityBatches batches() {
        return batches;
    }

    /**
     * Back-propagates {@code g = ∂L/∂V} ({@code B1 × B2}, the batches' dtype).
     *
     * @param anchorGradient whether to compute {@code ∂L/∂anchor}
     * @param candidateGradients whether to compute {@code ∂L/∂candidates[m]}
     */
    public VolumeGradients backward(INDArray g, boolean anchorGradient, boolean candidateGradients) {
        long b1 = batches.anchorRows();
        long b2 = batches.candidateRows();
        if (g.rank() != 2 || g.size(0) != b1 || g.size(1) != b2) {
            throw new IllegalArgumentException("g must be " + b1 + " x " + b2 + " (the volume matrix), got shape "
                    + java.util.Arrays.toString(g.shape()));
        }
        DataType type = batches.dataType();
        double eta = floor(type);
        double tinySquare = type == DataType.DOUBLE ? Double.MIN_NORMAL : Float.MIN_NORMAL;
        INDArray g2 = g.dataType() == type ? g : g.castTo(type);

        double[] sFloor = batches.anchorSquaredNorms().castTo(DataType.DOUBLE).toDoubleVector();
        for (int i = 0; i < sFloor.length; i++) {
            sFloor[i] = sFloor[i] >= tinySquare ? eta * sFloor[i] : 1.0;
        }
        INDArray flooredS = Nd4j.createUninitialized(type, new long[] {b1, b2}, 'c');
        Nd4j.getExecutioner().exec(new BroadcastMax(s, column(sFloor, type), flooredS, 0));
        INDArray c = g2.mul(volumes).divi(flooredS);

        INDArray anchor = batches.anchor();
        INDArray anchorGrad = null;
        if (anchorGradient) {
            anchorGrad = anchor.mulColumnVector(c.sum(1).reshape(b1, 1));
            for (int m = 0; m < basis.size(); m++) {
                Nd4j.gemm(c.mul(w.get(m)), basis.q(m), anchorGrad, false, false, -1.0, 1.0);
            }
        }
        List<INDArray> candidateGrads = new ArrayList<>();
        if (candidateGradients) {
            candidateGrads = candidateGradients(g2, c, eta, tinySquare);
        }
        return new VolumeGradients(anchorGrad, candidateGrads);
    }

    private List<INDArray> candidateGradients(INDArray g, INDArray c, double eta, double tinySquare) {
        int kk = basis.size();
        int b2 = (int) batches.candidateRows();
        DataType type = batches.dataType();
        // R⁻¹ per candidate row, with the diagonal floored, in double on the host (B2·K² numbers).
        double[][][] r = new double[kk][kk][];
        for (int m = 0; m < kk; m++) {
            for (int l = m; l < kk; l++) {
                r[m][l] = basis.r(m, l).castTo(DataType.DOUBLE).toDoubleVector();
            }
            double[] norms = batches.candidateSquaredNorms(m).castTo(DataType.DOUBLE).toDoubleVector();
            for (int j = 0; j < b2; j++) {
                r[m][m][j] = norms[j] >= tinySquare ? Math.max(r[m][m][j], Math.sqrt(eta * norms[j])) : 1.0;
            }
        }
        double[][][] rInv = new double[kk][kk][b2];
        for (int j = 0; j < b2; j++) {
            for (int l = 0; l < kk; l++) {
                rInv[l][l][j] = 1.0 / r[l][l][j];
                for (int m = l - 1; m >= 0; m--) {
                    double sum = 0;
                    for (int p = m + 1; p <= l; p++) {
                        sum += r[m][p][j] * rInv[p][l][j];
                    }
                    rInv[m][l][j] = -sum / r[m][m][j];
                }
            }
        }
        // y_m = Σ_{l ≥ m} R⁻¹_{ml} w_l, elementwise over pairs
        List<INDArray> y = new ArrayList<>(kk);
        for (int m = 0; m < kk; m++) {
            INDArray ym = w.get(m).mulRowVector(row(rInv[m][m], type));
            for (int l = m + 1; l < kk; l++) {
                ym.addi(w.get(l).mulRowVector(row(rInv[m][l], type)));
            }
            y.add(ym);
        }
        double[] gv = RowOps.columnSums(g.mul(volumes)).castTo(DataType.DOUBLE).toDoubleVector();
        INDArray anchor = batches.anchor();
        List<INDArray> grads = new ArrayList<>(kk);
        for (int m = 0; m < kk; m++) {
            INDArray cy = c.mul(y.get(m));
            INDArray grad = Nd4j.gemm(cy, anchor, Nd4j.createUninitialized(type, new long[] {b2, batches.dim()}, 'c'),
                    true, false, -1.0, 0.0);
            for (int l = 0; l < kk; l++) {
                double[] coefficient = RowOps.columnSums(cy.mul(y.get(l))).castTo(DataType.DOUBLE).toDoubleVector();
                for (int j = 0; j < b2; j++) {
                    double cInv = 0;
                    for (int p = Math.max(m, l); p < kk; p++) {
                        cInv += rInv[m][p][j] * rInv[l][p][j];
                    }
                    coefficient[j] += cInv * gv[j];
                }
                grad.addi(batches.candidate(l).mulColumnVector(column(coefficient, type)));
            }
            grads.add(grad);
        }
        return grads;
    }

    private static INDArray column(double[] values, DataType type) {
        return Nd4j.createFromArray(values).castTo(type).reshape(values.length, 1);
    }

    private static INDArray row(double[] values, DataType type) {
        return Nd4j.createFromArray(values).castTo(type).reshape(1, values.length);
    }
}
