package io.github.gram4j.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import io.github.gram4j.core.internal.RowOps;

/**
 * A validated GRAM input: one anchor batch and {@code K = k − 1} candidate batches.
 *
 * <p>Shapes: the anchor is {@code B1 × d}; every candidate batch is {@code B2 × d} with the same
 * {@code B2}. {@code B1} and {@code B2} may differ. Pair {@code (i, j)} is the tuple
 * {@code (anchor_i, candidates[0]_j, …, candidates[K−1]_j)} of {@code k} vectors.
 *
 * <p>Dtypes: all batches must share one floating-point dtype. {@code FLOAT} and {@code DOUBLE}
 * are computed in that dtype; {@code HALF} and {@code BFLOAT16} are converted to {@code FLOAT}
 * (copies) so that every sum accumulates in single precision. Integer, boolean and other dtypes
 * are rejected.
 *
 * <p>Non-finite values: <b>checked</b>. A NaN or an infinity anywhere in a batch is rejected with an
 * {@link IllegalArgumentException} that names the batch and the first offending row and column;
 * so is a row whose squared norm overflows the dtype (entries beyond ~1e19 in FLOAT). Propagating
 * them would be worse than useless here: the degenerate-tuple clamp ({@code max(s, 0)}) would
 * turn some NaNs into plausible-looking zero volumes. The check is the row squared norms, one
 * read of each input (the anchor's are kept: FAST needs them).
 *
 * <p>Every failure is an {@link IllegalArgumentException} whose message names the argument (the
 * names given to {@link #named}, or {@code anchor} and {@code candidates[m]}) and its shape.
 *
 * <p>Instances are immutable; they hold references to the caller's arrays (or to converted
 * copies), which the caller must not modify while the instance is in use.
 */
public final class ModalityBatches {

    private final INDArray anchor;
    private final INDArray anchorSquaredNorms;
    private final List<INDArray> candidates;
    private final List<INDArray> candidateSquaredNorms;
    private final DataType dataType;

    private ModalityBatches(INDArray anchor, INDArray anchorSquaredNorms, List<INDArray> candidates,
            List<INDArray> candidateSquaredNorms, DataType dataType) {
        this.anchor = anchor;
        this.anchorSquaredNorms = anchorSquaredNorms;
        this.candidates = candidates;
        this.candidateSquaredNorms = candidateSquaredNorms;
        this.dataType = dataType;
    }

    /**
     * Validates {@code anchor} ({@code B1 × d}) and the candidate batches ({@code B2 × d} each).
     *
     * @param anchor {@code B1 × d}
     * @param candidates {@code K ≥ 1} batches of {@code B2 × d}
     * @return the validated batches, in their computation dtype
     * @throws IllegalArgumentException if an argument is null, not 2-D, empty, of a non-float
     *     dtype, of another dtype than the anchor, of another {@code d} than the anchor, of another
     *     {@code B2} than the first candidate batch, or holds a NaN or an infinity; or if no
     *     candidate batch is given.
     */
    public static ModalityBatches of(INDArray anchor, INDArray... candidates) {
        if (candidates == null) {
            throw new IllegalArgumentException(
                    "candidates: at least one candidate batch is required (k >= 2), got null");
        }
        List<String> names = new ArrayList<>(candidates.length);
        for (int m = 0; m < candidates.length; m++) {
            names.add("candidates[" + m + "]");
        }
        return named("anchor", anchor, names, Arrays.asList(candidates));
    }

    /**
     * As {@link #of}, with the names that error messages use for each batch (a file name, a
     * modality name).
     *
     * @param anchorName name of the anchor in messages
     * @param anchor {@code B1 × d}
     * @param candidateNames one name per candidate batch, same order
     * @param candidates {@code K ≥ 1} batches of {@code B2 × d}
     * @return the validated batches, in their computation dtype
     */
    public static ModalityBatches named(
            String anchorName, INDArray anchor, List<String> candidateNames, List<INDArray> candidates) {
        Objects.requireNonNull(anchorName, "anchorName");
        if (candidates == null || candidates.isEmpty()) {
            throw new IllegalArgumentException(
                    "candidates: at least one candidate batch is required (k >= 2), got none");
        }
        if (candidateNames == null || candidateNames.size() != candidates.size()) {
            throw new IllegalArgumentException("candidateNames: need one name per candidate batch ("
                    + candidates.size() + "), got " + (candidateNames == null ? "null" : candidateNames.size()));
        }
        checkMatrix(anchorName, anchor);
        DataType given = anchor.dataType();
        checkFloatingPoint(anchorName, anchor);
        long dim = anchor.size(1);
        long b2 = -1;
        String firstName = null;
        for (int m = 0; m < candidates.size(); m++) {
            String name = candidateNames.get(m);
            INDArray x = candidates.get(m);
            checkMatrix(name, x);
            if (x.dataType() != given) {
                throw new IllegalArgumentException(name + " has dtype " + x.dataType() + " but " + anchorName
                        + " has dtype " + given + "; all batches must share one dtype (shapes "
                        + shape(x) + " and " + shape(anchor) + ")");
            }
            if (x.size(1) != dim) {
                throw new IllegalArgumentException(name + " has dim " + x.size(1) + " but " + anchorName
                        + " has dim " + dim + " (" + name + " shape " + shape(x) + ", " + anchorName
                        + " shape " + shape(anchor) + ")");
            }
            if (m == 0) {
                b2 = x.size(0);
                firstName = name;
            } else if (x.size(0) != b2) {
                throw new IllegalArgumentException(name + " has " + x.size(0) + " rows but " + firstName
                        + " has " + b2 + " (shapes " + shape(x) + " and " + shape(candidates.get(0))
                        + "); all candidate batches must have the same batch size");
            }
        }
        DataType compute = computeTypeFor(given);
        INDArray a = anchor.dataType() == compute ? anchor : anchor.castTo(compute);
        INDArray anchorSquares = checkedSquaredNorms(anchorName, a);
        List<INDArray> xs = new ArrayList<>(candidates.size());
        List<INDArray> xSquares = new ArrayList<>(candidates.size());
        for (int m = 0; m < candidates.size(); m++) {
            INDArray x = candidates.get(m);
            x = x.dataType() == compute ? x : x.castTo(compute);
            xSquares.add(checkedSquaredNorms(candidateNames.get(m), x));
            xs.add(x);
        }
        return new ModalityBatches(a, anchorSquares, Collections.unmodifiableList(xs),
                Collections.unmodifiableList(xSquares), compute);
    }

    /**
     * The anchor of one validated input with the candidate batches of another, without validating
     * again (the gathered loss pairs local anchors with gathered candidates and vice versa).
     *
     * @param anchors the validated input whose anchor is taken
     * @param candidates the validated input whose candidate batches are taken
     * @return {@code anchors}' anchor with {@code candidates}' candidate batches
     * @throws IllegalArgumentException if the two differ in {@code d}, dtype or candidate count
     */
    public static ModalityBatches pair(ModalityBatches anchors, ModalityBatches candidates) {
        if (anchors.dim() != candidates.dim() || anchors.dataType() != candidates.dataType()
                || anchors.candidateModalities() != candidates.candidateModalities()) {
            throw new IllegalArgumentException("cannot pair anchors " + shape(anchors.anchor) + " " + anchors.dataType()
                    + " (k = " + anchors.k() + ") with candidates " + shape(candidates.candidate(0)) + " "
                    + candidates.dataType() + " (k = " + candidates.k() + ")");
        }
        return new ModalityBatches(anchors.anchor, anchors.anchorSquaredNorms, candidates.candidates,
                candidates.candidateSquaredNorms, anchors.dataType);
    }

    /**
     * The dtype GRAM computes in for inputs of {@code given}: FLOAT for HALF and BFLOAT16.
     *
     * @param given an input dtype
     * @return FLOAT for HALF, BFLOAT16 and FLOAT; DOUBLE for DOUBLE; {@code given} otherwise
     */
    public static DataType computeTypeFor(DataType given) {
        switch (given) {
            case DOUBLE:
                return DataType.DOUBLE;
            case FLOAT:
            case HALF:
            case BFLOAT16:
                return DataType.FLOAT;
            default:
                throw new IllegalArgumentException("dtype " + given
                        + " is not supported; a floating-point dtype (FLOAT, DOUBLE, HALF, BFLOAT16) is required");
        }
    }

    /** {@return the anchor batch, {@code B1 × d}, in {@link #dataType()}} */
    public INDArray anchor() {
        return anchor;
    }

    /** {@return {@code |anchor_i|²} for every anchor row: {@code B1} entries, computed during validation} */
    public INDArray anchorSquaredNorms() {
        return anchorSquaredNorms;
    }

    /**
     * {@code |candidates[m]_j|²} for every row of candidate batch {@code m}, computed during validation.
     *
     * @param m the candidate batch, {@code 0 ≤ m < K}
     * @return {@code B2} entries
     */
    public INDArray candidateSquaredNorms(int m) {
        return candidateSquaredNorms.get(m);
    }

    /** {@return the {@code K = k − 1} candidate batches, {@code B2 × d} each, in {@link #dataType()}} */
    public List<INDArray> candidates() {
        return candidates;
    }

    /**
     * Candidate batch {@code m} (0-based).
     *
     * @param m the candidate batch, {@code 0 ≤ m < K}
     * @return {@code B2 × d}, in {@link #dataType()}
     */
    public INDArray candidate(int m) {
        return candidates.get(m);
    }

    /** {@return the computation dtype: FLOAT or DOUBLE} */
    public DataType dataType() {
        return dataType;
    }

    /** {@return {@code k}: the number of vectors in one tuple (anchor + candidates), at least 2} */
    public int k() {
        return candidates.size() + 1;
    }

    /** {@return {@code K = k − 1}: the number of candidate batches} */
    public int candidateModalities() {
        return candidates.size();
    }

    /** {@return {@code B1}: the number of anchor rows} */
    public long anchorRows() {
        return anchor.size(0);
    }

    /** {@return {@code B2}: the number of rows of each candidate batch} */
    public long candidateRows() {
        return candidates.get(0).size(0);
    }

    /** {@return {@code d}: the embedding dimension} */
    public long dim() {
        return anchor.size(1);
    }

    private static void checkMatrix(String name, INDArray x) {
        if (x == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (x.rank() != 2) {
            throw new IllegalArgumentException(name + " must be a 2-D (batch x dim) array, got rank "
                    + x.rank() + " with shape " + shape(x));
        }
        if (x.size(0) == 0 || x.size(1) == 0) {
            throw new IllegalArgumentException(name + " must have at least one row and one column, got shape "
                    + shape(x));
        }
    }

    static void checkFloatingPoint(String name, INDArray x) {
        if (!x.dataType().isFPType()) {
            throw new IllegalArgumentException(name + " has dtype " + x.dataType() + " (shape " + shape(x)
                    + "); a floating-point dtype (FLOAT, DOUBLE, HALF, BFLOAT16) is required");
        }
        computeTypeFor(x.dataType());
    }

    /**
     * Returns the row squared norms of {@code x}, after checking that they are finite: a NaN or an
     * infinity in {@code x} makes one non-finite, and so does a row too large for the dtype.
     */
    private static INDArray checkedSquaredNorms(String name, INDArray x) {
        INDArray squares = RowOps.rowDots(x, x);
        double[] values = squares.toDoubleVector();
        for (int row = 0; row < values.length; row++) {
            if (!Double.isFinite(values[row])) {
                throw new IllegalArgumentException(nonFiniteMessage(name, x, row));
            }
        }
        return squares;
    }

    private static String nonFiniteMessage(String name, INDArray x, int row) {
        double[] values = x.getRow(row).castTo(DataType.DOUBLE).toDoubleVector();
        for (int col = 0; col < values.length; col++) {
            if (!Double.isFinite(values[col])) {
                return name + " (shape " + shape(x) + ") contains NaN or infinite values (first at row " + row
                        + ", column " + col + ")";
            }
        }
        return name + " (shape " + shape(x) + "): the squared norm of row " + row + " overflows " + x.dataType()
                + "; rescale the embeddings or use DOUBLE";
    }

    static String shape(INDArray x) {
        return Arrays.toString(x.shape());
    }
}
