package io.github.gram4j.core.fast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.ModalityBatches;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Volumes against stored bases equal the pairwise FAST volumes, and misfitting arrays are refused. */
class BasisVolumesTest {

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void storedBasesGiveThePairwiseVolumes(DataType type) {
        Nd4j.getRandom().setSeed(3);
        INDArray a = Nd4j.randn(DataType.DOUBLE, 9, 7).castTo(type);
        List<INDArray> xs = List.of(Nd4j.randn(DataType.DOUBLE, 13, 7).castTo(type),
                Nd4j.randn(DataType.DOUBLE, 13, 7).castTo(type), Nd4j.randn(DataType.DOUBLE, 13, 7).castTo(type));
        CandidateBasis basis = CandidateBasis.of(xs);
        ModalityBatches valid = ModalityBatches.of(a, xs.toArray(INDArray[]::new));
        List<INDArray> w = new ArrayList<>();
        List<INDArray> q = new ArrayList<>();
        for (int m = 0; m < 3; m++) {
            w.add(Nd4j.create(type, 9, 13));
            q.add(basis.q(m));
        }
        BasisVolumes.volumesInto(a, valid.anchorSquaredNorms(), q, basis.rhoProduct(), w);
        INDArray expected = GramVolumes.pairwise(a, xs.toArray(INDArray[]::new));
        double tol = type == DataType.FLOAT ? 1e-4 : 1e-12;
        double diff = w.get(0).sub(expected).castTo(DataType.DOUBLE).amaxNumber().doubleValue();
        assertTrue(diff <= tol * expected.castTo(DataType.DOUBLE).amaxNumber().doubleValue(), "max diff " + diff);
        assertTrue(expected.castTo(DataType.DOUBLE).minNumber().doubleValue() > 0);
    }

    @Test
    void misfittingScratchIsRefused() {
        INDArray a = Nd4j.rand(DataType.FLOAT, 4, 5);
        CandidateBasis basis = CandidateBasis.of(List.of(Nd4j.rand(DataType.FLOAT, 6, 5)));
        INDArray norms = a.mul(a).sum(1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BasisVolumes.volumesInto(a,
                norms, List.of(basis.q(0)), basis.rhoProduct(), List.of(Nd4j.create(DataType.FLOAT, 4, 7))));
        assertTrue(e.getMessage().contains("[4, 7]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BasisVolumes.volumesInto(a, norms, List.of(basis.q(0)),
                basis.rhoProduct(), List.of()));
        assertEquals("need K >= 1 bases and K scratch matrices, got 1 bases and 0 scratch matrices", e.getMessage());
    }
}
