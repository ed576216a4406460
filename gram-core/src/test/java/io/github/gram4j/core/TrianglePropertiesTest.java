package io.github.gram4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import io.github.gram4j.core.testing.ArrayAssert;
import io.github.gram4j.core.testing.RandomArrays;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Geometric properties, closed forms, degenerate inputs and validation of {@link TriangleScores}. */
class TrianglePropertiesTest {

    private final Random random = new Random(15);

    private INDArray[] batches(int b1, int b2, int d) {
        return new INDArray[] {RandomArrays.gaussian(random, b1, d, DataType.DOUBLE),
            RandomArrays.gaussian(random, b2, d, DataType.DOUBLE), RandomArrays.gaussian(random, b2, d, DataType.DOUBLE)};
    }

    @Test
    void translatingAllThreePointsLeavesTheScoresUnchanged() {
        INDArray[] x = batches(7, 5, 12);
        INDArray shift = RandomArrays.gaussian(random, 1, 12, DataType.DOUBLE).muli(3);
        INDArray before = TriangleScores.pairwise(x[0], x[1], x[2]);
        INDArray after = TriangleScores.pairwise(x[0].addRowVector(shift), x[1].addRowVector(shift),
                x[2].addRowVector(shift));
        ArrayAssert.assertArrayClose("translated scores", after, before, 1e-12);
        ArrayAssert.assertArrayClose("translated areas", TriangleScores.areas(x[0].addRowVector(shift),
                x[1].addRowVector(shift), x[2].addRowVector(shift)), TriangleScores.areas(x[0], x[1], x[2]), 1e-12);
    }

    @Test
    void swappingTheTwoCandidateBatchesLeavesTheScoresUnchanged() {
        INDArray[] x = batches(6, 9, 8);
        ArrayAssert.assertArrayClose("swapped", TriangleScores.pairwise(x[0], x[2], x[1]),
                TriangleScores.pairwise(x[0], x[1], x[2]), 1e-13);
    }

    @Test
    void scalingByCMultipliesTheRootlessScoreByCToTheFourthAndTheAreaByCSquared() {
        INDArray[] x = batches(5, 4, 10);
        double c = 2.5;
        ArrayAssert.assertArrayClose("c^4", TriangleScores.pairwise(x[0].mul(c), x[1].mul(c), x[2].mul(c)),
                TriangleScores.pairwise(x[0], x[1], x[2]).mul(Math.pow(c, 4)), 1e-13);
        ArrayAssert.assertArrayClose("c^2", TriangleScores.areas(x[0].mul(c), x[1].mul(c), x[2].mul(c)),
                TriangleScores.areas(x[0], x[1], x[2]).mul(c * c), 1e-13);
    }

    @Test
    void rootlessScoreIsTwiceTheSquaredArea() {
        INDArray[] x = batches(6, 7, 16);
        INDArray area = TriangleScores.areas(x[0], x[1], x[2]);
        ArrayAssert.assertArrayClose("2 area^2", TriangleScores.pairwise(x[0], x[1], x[2]), area.mul(area).muli(2), 1e-13);
    }

    @Test
    void rightIsoscelesTriangleHasItsClosedForm() {
        // legs of length L along two axes, in d = 5 and shifted off the origin: area L²/2, rootless L⁴/2
        double leg = 3.0;
        INDArray origin = Nd4j.createFromArray(new double[][] {{1, -2, 0.5, 4, 7}});
        INDArray t = origin.dup();
        INDArray v = origin.add(Nd4j.createFromArray(new double[][] {{leg, 0, 0, 0, 0}}));
        INDArray a = origin.add(Nd4j.createFromArray(new double[][] {{0, 0, leg, 0, 0}}));
        assertEquals(leg * leg / 2, TriangleScores.areas(t, v, a).getDouble(0, 0), 1e-12);
        assertEquals(Math.pow(leg, 4) / 2, TriangleScores.pairwise(t, v, a).getDouble(0, 0), 1e-11);
        assertEquals(leg * leg / 2, TriangleScores.tupleArea(Nd4j.vstack(t, v, a)), 1e-12);
        // the same triangle with its right angle at a candidate vertex
        assertEquals(leg * leg / 2, TriangleScores.tupleArea(Nd4j.vstack(v, t, a)), 1e-12);
    }

    @Test
    void coincidentAndCollinearPointsGiveZeroNeverNaN() {
        INDArray p = RandomArrays.gaussian(random, 4, 6, DataType.DOUBLE);
        for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            INDArray q = p.castTo(type);
            INDArray coincident = TriangleScores.pairwise(q, q, q);
            for (int i = 0; i < 4; i++) {
                assertEquals(0.0, coincident.getDouble(i, i), 0.0, type + " coincident pair " + i);
            }
            ArrayAssert.assertAllFinite("coincident", coincident);
            ArrayAssert.assertAllFinite("coincident areas", TriangleScores.areas(q, q, q));
            // v = a: every triangle is degenerate
            INDArray other = RandomArrays.gaussian(random, 3, 6, type);
            assertEquals(0.0, TriangleScores.areas(q, other, other).amaxNumber().doubleValue(), 0.0, type + " v = a");
            // collinear: t, v, a on one line
            INDArray line = q.mul(2.0);
            INDArray collinear = TriangleScores.areas(q.mul(3.0), q, line);
            for (int i = 0; i < 4; i++) {
                double scale = q.getRow(i).norm2Number().doubleValue();
                assertTrue(collinear.getDouble(i, i) <= 1e-6 * scale * scale, type + " collinear " + collinear.getDouble(i, i));
            }
            INDArray zeros = Nd4j.zeros(type, 2, 6);
            assertEquals(0.0, TriangleScores.pairwise(zeros, zeros, zeros).amaxNumber().doubleValue(), 0.0);
        }
    }

    @Test
    void halfAndBfloat16AreComputedInFloat() {
        INDArray[] x = batches(3, 4, 8);
        for (DataType type : new DataType[] {DataType.HALF, DataType.BFLOAT16}) {
            INDArray s = TriangleScores.pairwise(x[0].castTo(type), x[1].castTo(type), x[2].castTo(type));
            assertEquals(DataType.FLOAT, s.dataType(), type.toString());
            INDArray exact = TriangleScores.pairwise(x[0].castTo(type).castTo(DataType.DOUBLE),
                    x[1].castTo(type).castTo(DataType.DOUBLE), x[2].castTo(type).castTo(DataType.DOUBLE));
            ArrayAssert.assertArrayClose(type + " in FLOAT", s, exact, 1e-5);
        }
    }

    @Test
    void anyOtherModalityCountIsRejectedNamingTheCount() {
        INDArray[] x = batches(3, 3, 4);
        IllegalArgumentException two = assertThrows(IllegalArgumentException.class,
                () -> TriangleScores.pairwise(x[0], x[1]));
        assertTrue(two.getMessage().contains("exactly 3 modalities") && two.getMessage().contains("got 2"), two.getMessage());
        IllegalArgumentException four = assertThrows(IllegalArgumentException.class,
                () -> TriangleScores.areas(x[0], x[1], x[2], x[1]));
        assertTrue(four.getMessage().contains("got 4"), four.getMessage());
        IllegalArgumentException tuple = assertThrows(IllegalArgumentException.class,
                () -> TriangleScores.tupleArea(x[0].get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2))));
        assertTrue(tuple.getMessage().contains("3 x dim"), tuple.getMessage());
    }

    @Test
    void invalidBatchesGetModalityBatchesMessages() {
        INDArray[] x = batches(3, 3, 4);
        IllegalArgumentException dim = assertThrows(IllegalArgumentException.class,
                () -> TriangleScores.pairwise(x[0], x[1], Nd4j.zeros(DataType.DOUBLE, 3, 5)));
        assertTrue(dim.getMessage().contains("candidates[1] has dim 5"), dim.getMessage());
        INDArray nan = x[2].dup();
        nan.putScalar(1, 2, Double.NaN);
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> TriangleScores.pairwise(x[0], x[1], nan));
        assertTrue(bad.getMessage().contains("candidates[1]") && bad.getMessage().contains("NaN"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TriangleScores.pairwise(null, x[1], x[2]));
    }

    @Test
    void scoresThatCouldOverflowTheDtypeAreRefused() {
        INDArray big = Nd4j.createFromArray(new float[][] {{1e10f, 0}, {0, 1e10f}});
        INDArray other = Nd4j.createFromArray(new float[][] {{0, 1e10f}, {1e10f, 0}});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TriangleScores.pairwise(big, other, big.neg()));
        assertTrue(e.getMessage().contains("FLOAT") && e.getMessage().contains("use DOUBLE"), e.getMessage());
        // the same numbers in DOUBLE are fine and finite
        ArrayAssert.assertAllFinite("DOUBLE", TriangleScores.pairwise(big.castTo(DataType.DOUBLE),
                other.castTo(DataType.DOUBLE), big.neg().castTo(DataType.DOUBLE)));
    }

    @Test
    void contrastiveScoreDispatchesToTheSameNumbers() {
        INDArray[] x = batches(4, 5, 6);
        ModalityBatches b = ModalityBatches.of(x[0], x[1], x[2]);
        assertEquals(TriangleScores.pairwise(x[0], x[1], x[2]), ContrastiveScore.TRIANGLE.pairwise(b));
        assertEquals(TriangleScores.areas(x[0], x[1], x[2]), ContrastiveScore.TRIANGLE_AREA.pairwise(b));
        assertEquals(GramVolumes.pairwise(x[0], x[1], x[2]), ContrastiveScore.GRAM_VOLUME.pairwise(b));
        assertEquals(ContrastiveScore.TRIANGLE_AREA, ContrastiveScore.fromCliName("Triangle-Area"));
        assertThrows(IllegalArgumentException.class, () -> ContrastiveScore.fromCliName("area"));
    }

    @Test
    void farApartPointsWithCoincidentCandidatesAreRefusedNotNaN() {
        // v = a: a zero edge, so the score bound |e|²(|t'|+|a'|)²/2 is 0, but |t' − a'|² overflows FLOAT
        INDArray u = Nd4j.zeros(DataType.FLOAT, 1, 4).putScalar(0, 0, 1);
        INDArray t = u.mul(1e19);
        INDArray a = u.mul(-1e19);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TriangleScores.pairwise(t, a, a));
        assertTrue(e.getMessage().contains("FLOAT"), e.getMessage());
        // the same geometry in DOUBLE is computed: a degenerate triangle, score 0
        assertEquals(0.0, TriangleScores.pairwise(t.castTo(DataType.DOUBLE), a.castTo(DataType.DOUBLE),
                a.castTo(DataType.DOUBLE)).getDouble(0, 0), 0.0);
    }
}
