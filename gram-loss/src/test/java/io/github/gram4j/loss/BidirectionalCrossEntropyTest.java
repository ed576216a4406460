package io.github.gram4j.loss;

import static io.github.gram4j.core.testing.ArrayAssert.assertArrayClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The host and the ND4J-op cross-entropies agree (the PyTorch fixtures check the host one), and
 * so do the paired one-process form with its shared exponential and the two directions computed
 * apart on {@code S} and {@code Sᵀ}.
 */
class BidirectionalCrossEntropyTest {

    @ParameterizedTest(name = "{0} sign={1} eps={2} offset={3}")
    @CsvSource({"DOUBLE, -1, 0.1, 0", "DOUBLE, 1, 0.0, 3", "FLOAT, -1, 0.1, 5", "FLOAT, 1, 0.1, 0"})
    void hostAndOpsAgree(DataType type, double sign, double epsilon, int offset) {
        Nd4j.getRandom().setSeed(9);
        INDArray s1 = Nd4j.rand(type, 6, 12).muli(3);
        INDArray s2 = Nd4j.rand(type, 6, 12).muli(3).transpose().dup('f').transpose();  // not c-contiguous
        double tol = type == DataType.DOUBLE ? 1e-13 : 1e-5;
        BidirectionalCrossEntropy host = BidirectionalCrossEntropy.compute(s1, s2, sign, 0.2, epsilon, offset, true);
        BidirectionalCrossEntropy ops = BidirectionalCrossEntropy.compute(s1, s2, sign, 0.2, epsilon, offset, false);
        assertEquals(ops.loss, host.loss, tol * Math.abs(ops.loss));
        assertEquals(ops.gradTau, host.gradTau, tol * Math.abs(ops.gradTau));
        assertArrayClose("rows 1", host.rowLosses1, ops.rowLosses1, tol);
        assertArrayClose("rows 2", host.rowLosses2, ops.rowLosses2, tol);
        assertArrayClose("grad 1", host.gradScores1, ops.gradScores1, tol);
        assertArrayClose("grad 2", host.gradScores2, ops.gradScores2, tol);
    }

    @ParameterizedTest(name = "{0} sign={1} eps={2} B={3} spread={4}")
    @CsvSource({"DOUBLE, -1, 0.1, 7, 3", "DOUBLE, 1, 0.0, 64, 30", "FLOAT, -1, 0.1, 65, 3", "FLOAT, 1, 0.1, 2, 3",
            "DOUBLE, -1, 0.1, 9, 2000", "FLOAT, -1, 0.1, 9, 40"})
    void pairedEqualsBothDirectionsApart(DataType type, double sign, double epsilon, int b, double spread) {
        // spread·τ⁻¹ sets the logits' range: 2000/0.2 (DOUBLE) and 40/0.2 (FLOAT) exceed the shared
        // exponential's range, so those cases take the fallback; the others the shared pass
        Nd4j.getRandom().setSeed(b);
        INDArray s = Nd4j.rand(type, b, b).muli(spread);
        double tol = type == DataType.DOUBLE ? 1e-13 : 1e-5;
        BidirectionalCrossEntropy paired = BidirectionalCrossEntropy.paired(s, sign, 0.2, epsilon);
        BidirectionalCrossEntropy apart = BidirectionalCrossEntropy.compute(s, s.transpose().dup('c'), sign, 0.2, epsilon, 0,
                false);
        assertEquals(apart.loss, paired.loss, tol * Math.abs(apart.loss));
        assertEquals(apart.gradTau, paired.gradTau, tol * Math.abs(apart.gradTau));
        assertArrayClose("rows 1", paired.rowLosses1, apart.rowLosses1, tol);
        assertArrayClose("rows 2", paired.rowLosses2, apart.rowLosses2, tol);
        assertArrayClose("dL/dS", paired.gradScores1, apart.gradScores1.add(apart.gradScores2.transpose()), tol);
    }

    @ParameterizedTest(name = "{0} spread={1} shared={2}")
    @CsvSource({"DOUBLE, 100, true", "DOUBLE, 2000, false", "FLOAT, 10, true", "FLOAT, 40, false"})
    void sharedExponentialOnlyWithinItsRange(DataType type, double spread, boolean shared) {
        // the shared pass declines (null) when a column's largest logit lies too far below the top one
        INDArray s = Nd4j.zeros(type, 4, 4);
        s.putScalar(0, 0, spread);
        assertEquals(shared, BidirectionalCrossEntropy.pairedOnHost(s, 1, 0.2, 0.1) != null);
    }
}
