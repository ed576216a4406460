package io.github.gram4j.loss;

import static io.github.gram4j.core.testing.ArrayAssert.assertArrayClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The host and the ND4J-op cross-entropies agree (the PyTorch fixtures check the host one). */
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
}
