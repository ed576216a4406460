package io.github.gram4j.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
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
 * <p>Range: validation also records the largest row norms, so that volumes beyond the dtype can
 * be refused before any GEMM work ({@link #requireRepresentableVolumes()}), and whether any row
 * lies near the dtype's limits ({@link #wellScaled()}; then {@link #rowScaled()} gives exact
 * volumes by power-of-two row scaling). Both come from the squared norms the non-finite check
 * computes anyway: no extra pass in the common case.
 *
 * <p>Layout: an input that is not a plain c-order matrix (an 'f'-order array, a view with strided
 * rows or a column slice) is copied to c-order once here; the kernels slice row blocks of it.
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
    private final String anchorName;
    private final NormRange anchorRange;
    private final NormRange candidateRange;
    /** Arrays this instance allocated (squared norms, converted and c-order copies): {@link #release()} frees them. */
    private final List<INDArray> owned;

    private ModalityBatches(INDArray anchor, INDArray anchorSquaredNorms, List<INDArray> candidates,
            List<INDArray> candidateSquaredNorms, DataType dataType, String anchorName, NormRange anchorRange,
            NormRange candidateRange, List<INDArray> owned) {
        this.owned = owned;
        this.anchor = anchor;
        this.anchorSquaredNorms = anchorSquaredNorms;
        this.candidates = candidates;
        this.candidateSquaredNorms = candidateSquaredNorms;
        this.dataType = dataType;
        this.anchorName = anchorName;
        this.anchorRange = anchorRange;
        this.candidateRange = candidateRange;
    }

    /**
     * What validation learnt about one side's row norms: {@code log₂} of the largest row norm
     * (of the anchors) or of the largest product {@code Π_m |x_{m,j}|} (of a candidate row), and
     * whether every row lies in the range where the volume methods are exact without rescaling.
     */
    private record NormRange(double log2Largest, boolean wellScaled) {
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
        int k = candidates.size() + 1;
        List<INDArray> owned = new ArrayList<>();
        try {
            INDArray a = owning(owned, anchor, plainMatrix(owning(owned, anchor, anchor.dataType() == compute ? anchor
                    : anchor.castTo(compute))));
            INDArray anchorSquares = RowOps.squaredNorms(a);
            owned.add(anchorSquares);
            double[] anchorValues = checkedSquaredNorms(anchorName, a, anchorSquares);
            NormRange anchorRange = new NormRange(0.5 * log2(max(anchorValues)), wellScaled(a, anchorValues, k));
            List<INDArray> xs = new ArrayList<>(candidates.size());
            List<INDArray> xSquares = new ArrayList<>(candidates.size());
            double[] log2Products = new double[(int) b2];
            boolean candidatesWellScaled = true;
            for (int m = 0; m < candidates.size(); m++) {
                INDArray x = candidates.get(m);
                INDArray passed = x;
                x = owning(owned, passed, plainMatrix(owning(owned, passed, x.dataType() == compute ? x : x.castTo(compute))));
                INDArray squares = RowOps.squaredNorms(x);
                owned.add(squares);
                double[] values = checkedSquaredNorms(candidateNames.get(m), x, squares);
                xSquares.add(squares);
                xs.add(x);
                for (int j = 0; j < values.length; j++) {
                    log2Products[j] += 0.5 * log2(values[j]);
                }
                candidatesWellScaled &= wellScaled(x, values, k);
            }
            double log2LargestProduct = max(log2Products);
            // Π ρ is formed in the dtype: beyond its range only the rescaled computation is exact
            candidatesWellScaled &= log2LargestProduct <= Math.getExponent(largest(compute)) - 2;
            return new ModalityBatches(a, anchorSquares, Collections.unmodifiableList(xs),
                    Collections.unmodifiableList(xSquares), compute, anchorName,
                    anchorRange, new NormRange(log2LargestProduct, candidatesWellScaled), owned);
        } catch (RuntimeException | Error e) {
            // validation failed part-way: free the copies and norms made so far now, not at a GC
            release(owned);
            throw e;
        }
    }

    /** Records {@code made} as owned when it is not the caller's {@code given} array; returns it. */
    private static INDArray owning(List<INDArray> owned, INDArray given, INDArray made) {
        if (made != given && !owned.contains(made)) {
            owned.add(made);
        }
        return made;
    }

    /**
     * Frees the off-heap memory of the arrays this instance allocated itself (the row squared
     * norms, and copies made to convert a dtype or a layout) now, instead of when the garbage
     * collector collects them; arrays the caller passed in are never touched, nor arrays in an
     * ND4J workspace. The instance (and any instance {@link #pair}ed from it) must not be used
     * afterwards. gram4j's own entry points call this on the instances they create.
     */
    public void release() {
        release(owned);
    }

    private static void release(List<INDArray> arrays) {
        for (INDArray x : arrays) {
            if (x.closeable() && !x.wasClosed()) {
                x.close();
            }
        }
    }

    /**
     * {@code log₂} of the squared norms outside of which a row counts as badly scaled:
     * {@code [2^−T, 2^T]} with {@code T = min(60, 900/k)}, so that products of {@code k} squared
     * norms (the reference method's determinants) stay far inside DOUBLE, and squared norms far
     * inside FLOAT.
     */
    static double wellScaledExponent(int k) {
        return Math.min(60, 900.0 / k);
    }

    /**
     * Whether every row of {@code x} has a squared norm in {@code [2^−T, 2^T]} (see
     * {@link #wellScaledExponent}) or is exactly zero; a FLOAT row whose squared norm underflows
     * to 0 but holds non-zero entries is badly scaled.
     */
    private static boolean wellScaled(INDArray x, double[] squares, int k) {
        double limit = wellScaledExponent(k);
        boolean zeros = false;
        for (double square : squares) {
            double e = log2(square);
            if (square == 0) {
                zeros = true;
            } else if (e < -limit || e > limit) {
                return false;
            }
        }
        if (zeros) {
            INDArray amax = x.amax(1);
            double[] largest = amax.toDoubleVector();
            if (amax.closeable()) {
                amax.close();
            }
            for (int row = 0; row < squares.length; row++) {
                if (squares[row] == 0 && largest[row] != 0) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * {@code x} itself when it is a plain c-order matrix (unit column stride, rows one after
     * another), otherwise a c-order copy: block slicing of strided views with
     * {@code get(interval, all())} fails in ND4J 1.0.0-M2.1 (it returns a rank-0 array), and every
     * kernel reads c-order rows anyway.
     */
    private static INDArray plainMatrix(INDArray x) {
        boolean plain = x.ordering() == 'c' && x.elementWiseStride() == 1 && x.stride(1) == 1
                && (x.size(0) == 1 || x.stride(0) == x.size(1));
        return plain ? x : x.dup('c');
    }

    private static double log2(double x) {
        return x == 0 ? Double.NEGATIVE_INFINITY : Math.log(x) / Math.log(2);
    }

    private static double max(double[] values) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            max = Math.max(max, v);
        }
        return max;
    }

    /** The largest finite value of a computation dtype. */
    static double largest(DataType type) {
        return type == DataType.DOUBLE ? Double.MAX_VALUE : Float.MAX_VALUE;
    }

    /**
     * {@code log₂} of an upper bound on every volume of these batches, from the row norms of
     * validation: {@code max_i |a_i| · max_j Π_m |x_{m,j}|} (Hadamard's inequality: a volume is at
     * most the product of its vectors' norms). {@code −∞} when an entire side is zero.
     *
     * @return {@code log₂} of the bound
     */
    public double log2VolumeBound() {
        return anchorRange.log2Largest() + candidateRange.log2Largest();
    }

    /**
     * Refuses batches whose volumes may exceed the range of {@link #dataType()}, before any GEMM
     * work: every volume is at most {@code 2^log2VolumeBound()}; when that bound is beyond the
     * dtype's largest value, an exact result might not be representable.
     *
     * @throws IllegalArgumentException naming the anchor, the bound, the largest anchor norm and
     *     candidate norm product, the dtype's limit and the remedies (normalise the rows; DOUBLE)
     */
    public void requireRepresentableVolumes() {
        double bound = log2VolumeBound();
        if (bound > Math.log(largest(dataType)) / Math.log(2)) {
            throw new IllegalArgumentException(anchorName + " and its candidates (shapes " + shape(anchor) + ", "
                    + shape(candidates.get(0)) + ", k = " + k() + "): volumes may reach |anchor_i| * prod_m |candidate_m,j| = "
                    + powerOfTwo(bound) + " (largest anchor row norm " + powerOfTwo(anchorRange.log2Largest())
                    + ", largest product of candidate row norms " + powerOfTwo(candidateRange.log2Largest())
                    + "), beyond the " + dataType + " range (" + String.format(java.util.Locale.ROOT, "%.3g", largest(dataType))
                    + "); normalise the rows (a volume scales with the product of its rows' norms)"
                    + (dataType == DataType.DOUBLE ? "" : " or use DOUBLE"));
        }
    }

    /**
     * Formats a power of two in decimal scientific notation, also beyond the range of double.
     *
     * @param log2 the exponent
     * @return {@code 2^log2} as text, e.g. {@code 1.00e+300}
     */
    public static String powerOfTwo(double log2) {
        if (log2 == Double.NEGATIVE_INFINITY) {
            return "0";
        }
        double log10 = log2 * Math.log10(2);
        double exponent = Math.floor(log10);
        return String.format(java.util.Locale.ROOT, "%.2fe%+d", Math.pow(10, log10 - exponent), (long) exponent);
    }

    /**
     * Whether every row norm lies in the range where the volume methods need no rescaling: every
     * non-zero row's squared norm within {@code [2^−T, 2^T]}, {@code T = min(60, 900/k)}, and the
     * candidate norm products within the dtype. Otherwise {@link #rowScaled()} gives exact
     * volumes.
     *
     * @return whether the rows need no rescaling
     */
    public boolean wellScaled() {
        return anchorRange.wellScaled() && candidateRange.wellScaled();
    }

    /**
     * These batches with every row scaled by a power of two to a largest entry in {@code [0.5, 1)}
     * (exact: only exponents change), for volumes of rows whose norms lie near or beyond the
     * dtype's limits. A volume scales with the product of its rows' norms, so
     * {@code V_ij = V'_ij · 2^(e_i + Σ_m e_{m,j})} for the volumes {@code V'} of the scaled rows
     * ({@link RowScaled#exponent}). Copies every batch (into the current workspace, if one is open;
     * otherwise {@link #release()} of the scaled batches frees the copies).
     *
     * @return the scaled batches and the exponents to scale the volumes back
     */
    public RowScaled rowScaled() {
        int[] anchorExponents = new int[(int) anchorRows()];
        INDArray a = scaledRows(anchor, anchorExponents);
        int[] candidateExponents = new int[(int) candidateRows()];
        List<INDArray> xs = new ArrayList<>(candidates.size());
        List<INDArray> squares = new ArrayList<>(candidates.size());
        for (INDArray x : candidates) {
            int[] exponents = new int[candidateExponents.length];
            INDArray scaled = scaledRows(x, exponents);
            for (int j = 0; j < exponents.length; j++) {
                candidateExponents[j] += exponents[j];
            }
            xs.add(scaled);
            squares.add(RowOps.squaredNorms(scaled));
        }
        NormRange unit = new NormRange(0, true);
        INDArray anchorSquares = RowOps.squaredNorms(a);
        List<INDArray> owned = new ArrayList<>(xs);
        owned.addAll(squares);
        owned.add(a);
        owned.add(anchorSquares);
        ModalityBatches scaled = new ModalityBatches(a, anchorSquares, Collections.unmodifiableList(xs),
                Collections.unmodifiableList(squares), dataType, anchorName, unit, unit, owned);
        return new RowScaled(scaled, anchorExponents, candidateExponents);
    }

    /**
     * Batches whose rows were scaled by powers of two (see {@link #rowScaled()}).
     *
     * @param batches the scaled batches
     * @param anchorExponents {@code e_i}: anchor row {@code i} of the original is
     *     {@code 2^e_i} times that of {@code batches}
     * @param candidateExponents {@code Σ_m e_{m,j}} for every candidate row {@code j}
     */
    public record RowScaled(ModalityBatches batches, int[] anchorExponents, int[] candidateExponents) {

        /**
         * The exponent of a pair.
         *
         * @param i anchor row
         * @param j candidate row
         * @return {@code e} with {@code V_ij = V'_ij · 2^e}
         */
        public int exponent(int i, int j) {
            return anchorExponents[i] + candidateExponents[j];
        }
    }

    /** A copy of {@code x} with row {@code r} scaled by {@code 2^−e_r} (largest entry in [0.5, 1)). */
    private static INDArray scaledRows(INDArray x, int[] exponents) {
        double[][] rows = x.castTo(DataType.DOUBLE).toDoubleMatrix();
        for (int r = 0; r < rows.length; r++) {
            double largest = 0;
            for (double v : rows[r]) {
                largest = Math.max(largest, Math.abs(v));
            }
            exponents[r] = largest == 0 ? 0 : Math.getExponent(largest) + 1;
            for (int c = 0; c < rows[r].length; c++) {
                rows[r][c] = Math.scalb(rows[r][c], -exponents[r]);
            }
        }
        return Nd4j.create(rows).castTo(x.dataType());
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
                candidates.candidateSquaredNorms, anchors.dataType, anchors.anchorName, anchors.anchorRange,
                candidates.candidateRange, List.of());
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
    private static double[] checkedSquaredNorms(String name, INDArray x, INDArray squares) {
        double[] values = squares.toDoubleVector();
        for (int row = 0; row < values.length; row++) {
            if (!Double.isFinite(values[row])) {
                throw new IllegalArgumentException(nonFiniteMessage(name, x, row));
            }
        }
        return values;
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
