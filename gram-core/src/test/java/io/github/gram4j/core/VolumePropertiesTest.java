package io.github.gram4j.core;

import static io.github.gram4j.core.testing.VolumeAssert.assertClose;
import static io.github.gram4j.core.testing.VolumeAssert.assertNonNegativeFinite;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import io.github.gram4j.core.testing.RandomArrays;
import io.github.gram4j.core.testing.VolumeAssert;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Properties every volume must have, on random inputs, for both methods, both dtypes and
 * k = 2…5. Tolerances are relative to each pair's volume scale {@code |a|·Π|x_m|}: 1e-12 in
 * DOUBLE and 1e-5 in FLOAT (a few hundred ulps of float32 for sums over d = 48 terms and a
 * k × k elimination; the random tuples here are far from degenerate).
 */
class VolumePropertiesTest {

    static final int B1 = 7;
    static final int B2 = 5;
    static final int DIM = 48;

    static Stream<Arguments> grid() {
        return grid(2, 5);
    }

    static Stream<Arguments> twoModalities() {
        return grid(2, 2);
    }

    /** k = 3…5: at least two candidate batches, so that permuting them changes the input. */
    static Stream<Arguments> severalCandidateBatches() {
        return grid(3, 5);
    }

    static Stream<Arguments> grid(int minK, int maxK) {
        List<Arguments> args = new ArrayList<>();
        for (VolumeMethod method : VolumeMethod.values()) {
            for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
                for (int k = minK; k <= maxK; k++) {
                    args.add(Arguments.of(method, type, k));
                }
            }
        }
        return args.stream();
    }

    static double tolerance(DataType type) {
        return type == DataType.DOUBLE ? 1e-12 : 1e-5;
    }

    /** Degenerate volumes must vanish to rounding: {@code sqrt(ulp)} of scale at most. */
    static double degenerateBound(DataType type) {
        return type == DataType.DOUBLE ? 1e-7 : 1e-3;
    }

    static INDArray[] candidates(Random random, int k, DataType type) {
        return RandomArrays.gaussianBatches(random, k - 1, B2, DIM, type);
    }

    static double[][] scales(INDArray anchor, INDArray... xs) {
        return VolumeAssert.scales(anchor.castTo(DataType.DOUBLE),
                Arrays.stream(xs).map(x -> x.castTo(DataType.DOUBLE)).toList());
    }

    // k = 2 has one candidate batch: a permutation of it would compare a computation with itself.
    @ParameterizedTest(name = "{0} {1} k={2}")
    @MethodSource("severalCandidateBatches")
    void permutingCandidateBatchesLeavesVolumesUnchanged(VolumeMethod method, DataType type, int k) {
        Random random = new Random(11 + k);
        INDArray anchor = RandomArrays.gaussian(random, B1, DIM, type);
        INDArray[] xs = candidates(random, k, type);
        INDArray v = GramVolumes.pairwise(method, anchor, xs);
        INDArray[] rotated = new INDArray[xs.length];
        for (int m = 0; m < xs.length; m++) {
            rotated[m] = xs[(m + 1) % xs.length];
        }
        List<INDArray> rev = new ArrayList<>(Arrays.asList(xs));
        java.util.Collections.reverse(rev);
        double[][] scale = scales(anchor, xs);
        assertClose("rotated", GramVolumes.pairwise(method, anchor, rotated), v, scale, tolerance(type));
        assertClose("reversed", GramVolumes.pairwise(method, anchor, rev.toArray(INDArray[]::new)), v, scale,
                tolerance(type));
    }

    @ParameterizedTest(name = "{0} {1} k={2}")
    @MethodSource("grid")
    void scalingOneVectorByCScalesItsVolumesByAbsC(VolumeMethod method, DataType type, int k) {
        Random random = new Random(23 + k);
        INDArray anchor = RandomArrays.gaussian(random, B1, DIM, type);
        INDArray[] xs = candidates(random, k, type);
        INDArray v = GramVolumes.pairwise(method, anchor, xs);

        INDArray scaledAnchor = anchor.dup();
        scaledAnchor.getRow(2).muli(-2.5);
        INDArray expectedRows = v.dup();
        expectedRows.getRow(2).muli(2.5);
        assertClose("anchor row 2 x -2.5", GramVolumes.pairwise(method, scaledAnchor, xs), expectedRows,
                scales(scaledAnchor, xs), tolerance(type));

        INDArray[] scaledXs = xs.clone();
        scaledXs[k - 2] = xs[k - 2].dup();
        scaledXs[k - 2].getRow(3).muli(0.25);
        INDArray expectedColumns = v.dup();
        expectedColumns.getColumn(3).muli(0.25);
        assertClose("last candidate row 3 x 0.25", GramVolumes.pairwise(method, anchor, scaledXs), expectedColumns,
                scales(anchor, scaledXs), tolerance(type));
    }

    @ParameterizedTest(name = "{0} {1} k={2}")
    @MethodSource("grid")
    void orthonormalTuplesHaveUnitVolume(VolumeMethod method, DataType type, int k) {
        Random random = new Random(37 + k);
        // B1 = B2 = 3 tuples; tuple (i, i) is orthonormal, built from its own random basis.
        int n = 3;
        double[][] anchor = new double[n][];
        double[][][] xs = new double[k - 1][n][];
        for (int t = 0; t < n; t++) {
            double[][] q = RandomArrays.orthonormalRows(random, k, DIM);
            anchor[t] = q[0];
            for (int m = 0; m < k - 1; m++) {
                xs[m][t] = q[m + 1];
            }
        }
        INDArray[] batches = Arrays.stream(xs).map(x -> Nd4j.create(x).castTo(type)).toArray(INDArray[]::new);
        INDArray v = GramVolumes.pairwise(method, Nd4j.create(anchor).castTo(type), batches);
        for (int t = 0; t < n; t++) {
            assertEquals(1.0, v.getDouble(t, t), tolerance(type), "tuple " + t);
        }
        assertEquals(1.0, GramVolumes.tuple(Nd4j.create(RandomArrays.orthonormalRows(random, k, DIM)).castTo(type)),
                tolerance(type), "GramVolumes.tuple");
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("twoModalities")
    void twoModalitiesGiveNormTimesNormTimesSine(VolumeMethod method, DataType type, int k) {
        Random random = new Random(41);
        INDArray a = RandomArrays.gaussian(random, B1, DIM, type);
        INDArray x = RandomArrays.gaussian(random, B2, DIM, type);
        double[][] ad = a.castTo(DataType.DOUBLE).toDoubleMatrix();
        double[][] xd = x.castTo(DataType.DOUBLE).toDoubleMatrix();
        double[][] expected = new double[B1][B2];
        for (int i = 0; i < B1; i++) {
            for (int j = 0; j < B2; j++) {
                double aa = 0;
                double xx = 0;
                double ax = 0;
                for (int c = 0; c < DIM; c++) {
                    aa += ad[i][c] * ad[i][c];
                    xx += xd[j][c] * xd[j][c];
                    ax += ad[i][c] * xd[j][c];
                }
                double cos = ax / Math.sqrt(aa * xx);
                expected[i][j] = Math.sqrt(aa) * Math.sqrt(xx) * Math.sqrt(1 - cos * cos);
            }
        }
        assertClose("|a||x|sin", GramVolumes.pairwise(method, a, x).castTo(DataType.DOUBLE), Nd4j.create(expected),
                scales(a, x), tolerance(type));
    }

    /** Both dtypes, k = 2…5, without the method (for tests that compare the two methods). */
    static Stream<Arguments> dtypesAndK() {
        List<Arguments> args = new ArrayList<>();
        for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            for (int k = 2; k <= 5; k++) {
                args.add(Arguments.of(type, k));
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} k={1}")
    @MethodSource("dtypesAndK")
    void fastEqualsReference(DataType type, int k) {
        Random random = new Random(53 + k);
        INDArray anchor = RandomArrays.gaussian(random, B1, DIM, type);
        INDArray[] xs = candidates(random, k, type);
        INDArray fast = GramVolumes.pairwise(VolumeMethod.FAST, anchor, xs);
        INDArray reference = GramVolumes.pairwise(VolumeMethod.REFERENCE, anchor, xs);
        assertEquals(type, fast.dataType());
        assertEquals(type, reference.dataType());
        assertEquals(List.of((long) B1, (long) B2), List.of(fast.size(0), fast.size(1)));
        assertClose("FAST vs REFERENCE", fast, reference, scales(anchor, xs), tolerance(type));
    }

    @ParameterizedTest(name = "{0} {1} k={2}")
    @MethodSource("grid")
    void degenerateTuplesHaveZeroOrTinyVolumeNeverNaN(VolumeMethod method, DataType type, int k) {
        Random random = new Random(67 + k);
        INDArray anchor = RandomArrays.gaussian(random, B1, DIM, type);
        INDArray[] xs = candidates(random, k, type);
        // pair (0, 0): two identical vectors; pair (1, 1): two collinear vectors (-3x)
        INDArray second = k == 2 ? anchor : xs[1];
        second.getRow(0).assign(xs[0].getRow(0));
        second.getRow(1).assign(xs[0].getRow(1).mul(-3));
        // pair (2, 2): the anchor inside the span of the candidates
        anchor.getRow(2).assign(xs[0].getRow(2).mul(0.3).add(xs[k - 2].getRow(2).mul(-0.7)));
        INDArray v = GramVolumes.pairwise(method, anchor, xs);
        assertNonNegativeFinite("degenerate", v);
        double[][] scale = scales(anchor, xs);
        double bound = degenerateBound(type);
        assertTrue(v.getDouble(0, 0) <= bound * scale[0][0], "identical modalities: " + v.getDouble(0, 0));
        assertTrue(v.getDouble(1, 1) <= bound * scale[1][1], "collinear modalities: " + v.getDouble(1, 1));
        assertTrue(v.getDouble(2, 2) <= bound * scale[2][2], "anchor in span: " + v.getDouble(2, 2));
        if (k > 2) {
            for (int i = 0; i < B1; i++) {
                assertTrue(v.getDouble(i, 0) <= bound * scale[i][0], "identical candidates, anchor row " + i);
                assertTrue(v.getDouble(i, 1) <= bound * scale[i][1], "collinear candidates, anchor row " + i);
            }
        }
        assertTrue(v.getDouble(3, 3) > 0.01 * scale[3][3], "a generic pair stays non-degenerate");
    }

    @ParameterizedTest(name = "{0} {1} k={2}")
    @MethodSource("grid")
    void zeroVectorsGiveExactlyZeroVolume(VolumeMethod method, DataType type, int k) {
        Random random = new Random(71 + k);
        INDArray anchor = RandomArrays.gaussian(random, B1, DIM, type);
        INDArray[] xs = candidates(random, k, type);
        anchor.getRow(4).assign(0);
        xs[k - 2].getRow(1).assign(0);
        INDArray v = GramVolumes.pairwise(method, anchor, xs);
        assertNonNegativeFinite("zero vectors", v);
        for (int j = 0; j < B2; j++) {
            assertEquals(0.0, v.getDouble(4, j), 0.0, "zero anchor row 4, column " + j);
        }
        for (int i = 0; i < B1; i++) {
            assertEquals(0.0, v.getDouble(i, 1), 0.0, "zero candidate row 1, anchor row " + i);
        }
    }
}
