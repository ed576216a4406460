package io.github.gram4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import io.github.gram4j.core.testing.RandomArrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** {@link GramVolumes#pairwiseInto}: the same numbers as {@link GramVolumes#pairwise}, in the caller's array. */
class PairwiseIntoTest {

    @ParameterizedTest
    @EnumSource(names = {"FLOAT", "DOUBLE"})
    void writesWhatPairwiseReturnsAndCanBeReused(DataType type) {
        Random random = new Random(3);
        INDArray out = Nd4j.createUninitialized(type, new long[] {7, 9}, 'c');
        for (int round = 0; round < 2; round++) {
            INDArray anchor = RandomArrays.gaussian(random, 7, 20, type);
            INDArray[] candidates = RandomArrays.gaussianBatches(random, 3, 9, 20, type);
            assertSame(out, GramVolumes.pairwiseInto(out, anchor, candidates));
            assertEquals(GramVolumes.pairwise(anchor, candidates), out);
        }
    }

    @Test
    void halfInputsWriteIntoAFloatArray() {
        Random random = new Random(4);
        INDArray anchor = RandomArrays.gaussian(random, 4, 8, DataType.FLOAT).castTo(DataType.HALF);
        INDArray candidate = RandomArrays.gaussian(random, 5, 8, DataType.FLOAT).castTo(DataType.HALF);
        INDArray out = Nd4j.create(DataType.FLOAT, 4, 5);
        assertEquals(GramVolumes.pairwise(anchor, candidate), GramVolumes.pairwiseInto(out, anchor, candidate));
    }

    @Test
    void badOutputsAreRejectedAndLeftAlone() {
        Random random = new Random(5);
        INDArray anchor = RandomArrays.gaussian(random, 4, 8, DataType.FLOAT);
        INDArray candidate = RandomArrays.gaussian(random, 5, 8, DataType.FLOAT);
        INDArray wrongShape = Nd4j.ones(DataType.FLOAT, 5, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GramVolumes.pairwiseInto(wrongShape, anchor, candidate));
        assertEquals("out must be 4 x 5 FLOAT for anchor [4, 8] and candidates[0] [5, 8], got [5, 4] FLOAT", e.getMessage());
        assertEquals(Nd4j.ones(DataType.FLOAT, 5, 4), wrongShape);
        e = assertThrows(IllegalArgumentException.class,
                () -> GramVolumes.pairwiseInto(Nd4j.ones(DataType.DOUBLE, 4, 5), anchor, candidate));
        assertTrue(e.getMessage().endsWith("got [4, 5] DOUBLE"), e.getMessage());
        INDArray fOrder = Nd4j.ones(DataType.FLOAT, 4, 5).dup('f');
        e = assertThrows(IllegalArgumentException.class, () -> GramVolumes.pairwiseInto(fOrder, anchor, candidate));
        assertTrue(e.getMessage().startsWith("out must be c-contiguous, got order f"), e.getMessage());
        assertEquals("out must not be null",
                assertThrows(IllegalArgumentException.class, () -> GramVolumes.pairwiseInto(null, anchor, candidate))
                        .getMessage());
        INDArray square = RandomArrays.gaussian(random, 5, 5, DataType.FLOAT);
        assertEquals("out shares memory with anchor (out [5, 5], anchor [5, 5]); pass an array that is not a view of an input",
                assertThrows(IllegalArgumentException.class, () -> GramVolumes.pairwiseInto(square, square, square))
                        .getMessage());
    }

    @Test
    void anOutThatSharesMemoryWithAnInputIsRejectedAndLeftAlone() {
        Random random = new Random(6);
        // one buffer holding the anchor rows and (overlapping them) the output rows
        INDArray block = RandomArrays.gaussian(random, 8, 4, DataType.FLOAT);
        INDArray anchor = block.get(NDArrayIndex.interval(0, 4), NDArrayIndex.all());
        INDArray candidate = RandomArrays.gaussian(random, 4, 4, DataType.FLOAT);
        INDArray overlapping = block.get(NDArrayIndex.interval(2, 6), NDArrayIndex.all());
        INDArray before = block.dup();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GramVolumes.pairwiseInto(overlapping, anchor, candidate));
        assertTrue(e.getMessage().startsWith("out shares memory with anchor"), e.getMessage());
        assertEquals(before, block);
        // candidates[1] and out: overlapping row ranges of one buffer
        INDArray x = RandomArrays.gaussian(random, 4, 4, DataType.FLOAT);
        INDArray a = RandomArrays.gaussian(random, 4, 4, DataType.FLOAT);
        INDArray flat = RandomArrays.gaussian(random, 1, 32, DataType.FLOAT);
        INDArray xRows = flat.reshape(8, 4).get(NDArrayIndex.interval(0, 4), NDArrayIndex.all());
        INDArray outRows = flat.reshape(8, 4).get(NDArrayIndex.interval(3, 7), NDArrayIndex.all());
        e = assertThrows(IllegalArgumentException.class, () -> GramVolumes.pairwiseInto(outRows, a, x, xRows));
        assertTrue(e.getMessage().startsWith("out shares memory with candidates[1]"), e.getMessage());
        // disjoint rows of one buffer do not share memory: accepted, and the inputs are untouched
        INDArray disjoint = flat.reshape(8, 4).get(NDArrayIndex.interval(4, 8), NDArrayIndex.all());
        INDArray xCopy = xRows.dup();
        assertEquals(GramVolumes.pairwise(a, x.dup(), xCopy), GramVolumes.pairwiseInto(disjoint, a, x, xRows));
        assertEquals(xCopy, xRows);
    }

    @Test
    void anOutThatMerelyEqualsAnInputByValueIsAccepted() {
        Random random = new Random(7);
        INDArray anchor = RandomArrays.gaussian(random, 5, 5, DataType.DOUBLE);
        INDArray candidate = RandomArrays.gaussian(random, 5, 5, DataType.DOUBLE);
        // equal by value to the anchor and to the candidate (INDArray.equals), sharing no memory
        INDArray out = candidate.dup();
        assertEquals(candidate, out);
        assertSame(out, GramVolumes.pairwiseInto(out, anchor, candidate));
        assertEquals(GramVolumes.pairwise(anchor, candidate), out);
    }
}
