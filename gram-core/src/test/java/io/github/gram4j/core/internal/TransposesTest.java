package io.github.gram4j.core.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;

import io.github.gram4j.core.testing.RandomArrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The tiled host transposes against ND4J's, on shapes that end inside a tile and span several. */
class TransposesTest {

    @ParameterizedTest(name = "{0} x {1}, {2}")
    @CsvSource({"1, 1, DOUBLE", "3, 200, FLOAT", "64, 64, DOUBLE", "65, 130, FLOAT", "257, 100, DOUBLE", "128, 1, FLOAT"})
    void copyAndAdditionEqualNd4j(int rows, int cols, DataType type) {
        Random random = new Random(rows * 1000L + cols);
        INDArray x = RandomArrays.gaussian(random, rows, cols, type);
        INDArray copy = Transposes.transposed(x);
        assertArrayEquals(new long[] {cols, rows}, copy.shape());
        assertEquals(type, copy.dataType());
        assertEquals(x.transpose().dup('c'), copy);

        INDArray target = RandomArrays.gaussian(random, cols, rows, type);
        INDArray expected = target.add(x.transpose());
        assertSame(target, Transposes.addTransposed(target, x));
        assertEquals(expected, target);
    }

    @ParameterizedTest(name = "view {0}")
    @CsvSource({"f", "c"})
    void nonContiguousSourcesAreCopiedFirst(char order) {
        INDArray base = RandomArrays.gaussian(new Random(5), 70, 90, DataType.DOUBLE).dup(order);
        INDArray view = base.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(3, 67),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 80));
        assertEquals(view.transpose().dup('c'), Transposes.transposed(view));
    }

    @ParameterizedTest(name = "{0} x {1}")
    @CsvSource({"4, 5", "5, 5"})
    void additionChecksTheTargetShape(int targetRows, int targetCols) {
        INDArray x = RandomArrays.gaussian(new Random(1), 4, 6, DataType.FLOAT);
        INDArray target = RandomArrays.gaussian(new Random(2), targetRows, targetCols, DataType.FLOAT);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Transposes.addTransposed(target, x));
        assertEquals("target must be 6 x 4 for x of shape [4, 6], got [" + targetRows + ", " + targetCols + "]", e.getMessage());
    }
}
