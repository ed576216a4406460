package io.github.gram4j.samediff;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import io.github.gram4j.core.NumericalPolicy;
import org.nd4j.autodiff.samediff.NameScope;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.impl.controlflow.compat.StopGradient;

/**
 * GRAM's pairwise volume matrix as a differentiable SameDiff subgraph:
 * {@code V[i][j] = vol(anchor_i, x_{0,j}, …, x_{K−1,j}) = sqrt|det G_ij|}, {@code B1 × B2}, in the
 * inputs' dtype.
 *
 * <p>Built along gram-core's FAST formulation, never ND4J's determinant op (whose gradient is
 * missing or wrong in several ND4J versions and undefined at {@code det = 0}): the candidate rows
 * are orthonormalised per {@code j} by Gram–Schmidt with one re-orthogonalisation pass (row-wise
 * dots and axpys on {@code B2 × d}), then {@code K} matrix products {@code w_m = A·Q_mᵀ} give
 * {@code V = Π_m ρ_{m,j} · sqrt(|a_i|² − Σ_m w_{m,ij}²)}. SameDiff differentiates through every
 * step, so the graph has {@code K} GEMMs forward and {@code 2K} backward.
 *
 * <p><b>Degenerate floor.</b> As in gram-loss ({@link NumericalPolicy}), the gradient is taken through
 * {@code max(s, η|a_i|²)} and {@code max(ρ_{m,j}, sqrt(η)|x_{m,j}|)}, {@code η = 64 ulp(1)} of the
 * dtype, so zero vectors, repeated modalities and anchors in the candidates' span give finite
 * gradients. The forward values are not floored: they equal gram-core's (a value-exact,
 * gradient-floored construction with {@code stop_gradient}). Above the floor the gradient is
 * exact. (Broadcast divisions are written as products with a reciprocal: ND4J 1.0.0-M2.1's
 * division backward reduces the gradient of a broadcast divisor wrongly.)
 *
 * <p>Shapes: {@code anchor} is {@code B1 × d}, every candidate {@code B2 × d}; all FLOAT or all
 * DOUBLE. Placeholders may leave {@code B1}, {@code B2} (and {@code d}) as {@code -1}; the
 * shapes SameDiff knows when the graph is built are checked then, the others when it runs.
 */
public final class SameDiffVolumes {

    private SameDiffVolumes() {
    }

    /**
     * Adds the volume matrix to {@code sd}.
     *
     * @param sd the graph
     * @param name the output variable's name; intermediate variables go in the name scope
     *     {@code name}
     * @param anchor {@code B1 × d}, FLOAT or DOUBLE
     * @param candidates {@code K ≥ 1} batches of {@code B2 × d}, same dtype
     * @return {@code V}, {@code B1 × B2}
     * @throws IllegalArgumentException naming the argument and shape: null or foreign variables, a
     *     dtype other than FLOAT/DOUBLE or mixed dtypes, a known rank other than 2, known
     *     {@code d} or candidate row counts that differ, no candidates
     */
    public static SDVariable volumes(SameDiff sd, String name, SDVariable anchor, SDVariable... candidates) {
        return volumes(sd, name, anchor, candidates == null ? null : Arrays.asList(candidates));
    }

    /**
     * As {@link #volumes(SameDiff, String, SDVariable, SDVariable...)}, candidates as a list.
     *
     * @param sd the graph
     * @param name the volume variable's name
     * @param anchor {@code B1 × d}, FLOAT or DOUBLE
     * @param candidates {@code K ≥ 1} batches of {@code B2 × d}
     * @return the {@code B1 × B2} volume variable {@code name}
     */
    public static SDVariable volumes(SameDiff sd, String name, SDVariable anchor, List<SDVariable> candidates) {
        GraphArguments.requireGraph(sd);
        GraphArguments.requireName(name);
        GraphArguments.requireBatch(sd, "anchor", anchor, null, null);
        GraphArguments.requireCandidates(sd, "candidates", candidates, anchor, "anchor");
        SDVariable v;
        try (NameScope ignored = sd.withNameScope(name)) {
            v = build(sd, anchor, candidates);
        }
        return v.rename(name);
    }

    /** The volume subgraph of already-validated inputs, in the current name scope. */
    static SDVariable build(SameDiff sd, SDVariable anchor, List<SDVariable> candidates) {
        DataType type = anchor.dataType();
        double eta = NumericalPolicy.degenerateFloor(type);
        double tiny = NumericalPolicy.tiny(type);

        List<SDVariable> q = new ArrayList<>(candidates.size());
        SDVariable rhoProduct = null;
        for (SDVariable x : candidates) {
            SDVariable v = x;
            for (int pass = 0; pass < 2 && !q.isEmpty(); pass++) {
                for (SDVariable ql : q) {
                    v = v.sub(ql.mul(rowSums(v.mul(ql))));
                }
            }
            SDVariable squares = rowSums(v.mul(v));
            SDVariable floor = rowSums(x.mul(x)).mul(eta).add(tiny);
            SDVariable rhoFloored = sd.math.sqrt(sd.max(squares, floor));
            SDVariable rhoExact = sd.math.sqrt(stop(sd, squares));
            SDVariable rho = valueOfFirstGradientOfSecond(sd, rhoExact, rhoFloored);
            SDVariable qFloored = v.mul(sd.math.reciprocal(rhoFloored));
            SDVariable qExact = stop(sd, v).div(sd.scalarMax(rhoExact, tiny));
            q.add(valueOfFirstGradientOfSecond(sd, qExact, qFloored));
            rhoProduct = rhoProduct == null ? rho : rhoProduct.mul(rho);
        }

        SDVariable anchorSquares = rowSums(anchor.mul(anchor));
        SDVariable s = anchorSquares;
        for (SDVariable qm : q) {
            SDVariable w = sd.mmul(anchor, qm, false, true, false);
            s = s.sub(w.mul(w));
        }
        SDVariable sFloored = sd.max(s, anchorSquares.mul(eta).add(tiny));
        SDVariable rootFloored = sd.math.sqrt(sFloored);
        SDVariable rootExact = sd.math.sqrt(sd.nn.relu(stop(sd, s), 0.0));
        SDVariable root = valueOfFirstGradientOfSecond(sd, rootExact, rootFloored);
        return root.mul(sd.reshape(rhoProduct, 1, -1));
    }

    /**
     * {@code second + stop(first − second)}: the value of {@code first}, the gradient of
     * {@code second}. {@code first} must be computed from stopped inputs only, so that no
     * (possibly infinite) derivative of it is ever multiplied into a real gradient.
     */
    private static SDVariable valueOfFirstGradientOfSecond(SameDiff sd, SDVariable first, SDVariable second) {
        return second.add(stop(sd, first.sub(second)));
    }

    /** {@code x} as a constant for the gradient ({@code stop_gradient}). */
    static SDVariable stop(SameDiff sd, SDVariable x) {
        return new StopGradient(sd, x).outputVariable();
    }

    /** Row sums of a {@code rows × d} variable, as a {@code rows × 1} column. */
    private static SDVariable rowSums(SDVariable x) {
        return x.getSameDiff().sum(x, true, 1);
    }
}
