package io.github.gram4j.loss;

import static io.github.gram4j.core.testing.ArrayAssert.assertAllFinite;
import static io.github.gram4j.core.testing.ArrayAssert.assertArrayClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.ToDoubleFunction;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The analytic gradients against central finite differences of the loss itself, in DOUBLE on
 * small random problems: every coordinate of every input, and the temperature parameter, for both
 * forms and both losses. Step {@code h = 1e-6}: truncation error {@code O(h²) ≈ 1e-12}, rounding
 * {@code O(ulp/h) ≈ 1e-10} of the loss; the bound 1e-6 (relative to the largest gradient entry)
 * leaves margin for both. The differences are taken of the forward-only {@code value} entries (no
 * tape, no backward per perturbation), which are first checked to equal {@code compute(…).loss()}.
 */
class FiniteDifferenceTest {

    static final double H = 1e-6;
    static final double TOLERANCE = 1e-6;

    static INDArray gaussian(Random random, int rows, int cols) {
        double[][] v = new double[rows][cols];
        for (double[] row : v) {
            for (int c = 0; c < cols; c++) {
                row[c] = random.nextGaussian() / Math.sqrt(cols);
            }
        }
        return Nd4j.create(v);
    }

    /** Central differences of {@code loss} with respect to every entry of {@code x} (perturbed in place). */
    static INDArray numericGradient(INDArray x, ToDoubleFunction<INDArray> loss) {
        INDArray grad = Nd4j.create(DataType.DOUBLE, x.shape());
        for (int r = 0; r < x.size(0); r++) {
            for (int c = 0; c < x.size(1); c++) {
                double v = x.getDouble(r, c);
                x.putScalar(r, c, v + H);
                double up = loss.applyAsDouble(x);
                x.putScalar(r, c, v - H);
                double down = loss.applyAsDouble(x);
                x.putScalar(r, c, v);
                grad.putScalar(r, c, (up - down) / (2 * H));
            }
        }
        return grad;
    }

    static double numericDerivative(java.util.function.DoubleUnaryOperator f, double at) {
        return (f.applyAsDouble(at + H) - f.applyAsDouble(at - H)) / (2 * H);
    }

    @ParameterizedTest(name = "k={0}")
    @ValueSource(ints = {2, 3, 4, 5})
    void oneProcessGramLoss(int k) {
        Random random = new Random(100 + k);
        int bs = 5;
        int d = 7;
        INDArray anchor = gaussian(random, bs, d);
        List<INDArray> xs = new ArrayList<>();
        for (int m = 1; m < k; m++) {
            xs.add(gaussian(random, bs, d));
        }
        GramLoss loss = new GramLoss(0.1);
        double tau = 0.2;
        LossResult r = loss.compute(Temperature.of(tau), anchor, xs.toArray(INDArray[]::new));
        assertEquals(r.loss(), loss.value(Temperature.of(tau), anchor, xs.toArray(INDArray[]::new)), 1e-14 * r.loss(),
                "value = compute(…).loss()");
        assertArrayClose("anchor", r.gradAnchor(),
                numericGradient(anchor, a -> loss.value(Temperature.of(tau), a, xs.toArray(INDArray[]::new))),
                TOLERANCE);
        for (int m = 0; m < xs.size(); m++) {
            int mm = m;
            assertArrayClose("candidates[" + m + "]", r.gradCandidates().get(m), numericGradient(xs.get(m), x -> {
                INDArray[] copy = xs.toArray(INDArray[]::new);
                copy[mm] = x;
                return loss.value(Temperature.of(tau), anchor, copy);
            }), TOLERANCE);
        }
        double dTau = numericDerivative(t -> loss.value(Temperature.of(t), anchor, xs.toArray(INDArray[]::new)), tau);
        assertEquals(dTau, r.gradTemperature(), TOLERANCE * Math.abs(dTau), "dL/dtau");
        double s = Math.log(1 / tau);
        LossResult rs = loss.compute(Temperature.fromLogitScale(s), anchor, xs.toArray(INDArray[]::new));
        double dS = numericDerivative(
                x -> loss.value(Temperature.fromLogitScale(x), anchor, xs.toArray(INDArray[]::new)), s);
        assertEquals(dS, rs.gradTemperature(), TOLERANCE * Math.abs(dS), "dL/ds");
    }

    @ParameterizedTest(name = "k={0}")
    @ValueSource(ints = {2, 3, 5})
    void gatheredGramLossAllInputs(int k) {
        Random random = new Random(200 + k);
        int bs = 3;
        int n = 7;
        int offset = 2;
        int d = 6;
        INDArray localAnchor = gaussian(random, bs, d);
        INDArray gatheredAnchor = gaussian(random, n, d);
        List<INDArray> local = new ArrayList<>();
        List<INDArray> gathered = new ArrayList<>();
        for (int m = 1; m < k; m++) {
            local.add(gaussian(random, bs, d));
            gathered.add(gaussian(random, n, d));
        }
        GramLoss loss = new GramLoss(0.1);
        Temperature t = Temperature.of(0.3);
        GatheredBatches batches = GatheredBatches.of(localAnchor, local, gatheredAnchor, gathered, offset);
        LossResult r = loss.compute(t, batches, true);
        assertEquals(r.loss(), loss.value(t, batches), 1e-14 * r.loss(), "value = compute(…).loss()");
        ToDoubleFunction<GatheredBatches> value = b -> loss.value(t, b);
        assertArrayClose("local anchor", r.gradAnchor(), numericGradient(localAnchor,
                a -> value.applyAsDouble(GatheredBatches.of(a, local, gatheredAnchor, gathered, offset))), TOLERANCE);
        assertArrayClose("gathered anchor", r.gradGatheredAnchor(), numericGradient(gatheredAnchor,
                a -> value.applyAsDouble(GatheredBatches.of(localAnchor, local, a, gathered, offset))), TOLERANCE);
        for (int m = 0; m < k - 1; m++) {
            int mm = m;
            assertArrayClose("local candidates[" + m + "]", r.gradCandidates().get(m), numericGradient(local.get(m), x -> {
                List<INDArray> copy = new ArrayList<>(local);
                copy.set(mm, x);
                return value.applyAsDouble(GatheredBatches.of(localAnchor, copy, gatheredAnchor, gathered, offset));
            }), TOLERANCE);
            assertArrayClose("gathered candidates[" + m + "]", r.gradGatheredCandidates().get(m),
                    numericGradient(gathered.get(m), x -> {
                        List<INDArray> copy = new ArrayList<>(gathered);
                        copy.set(mm, x);
                        return value.applyAsDouble(GatheredBatches.of(localAnchor, local, gatheredAnchor, copy, offset));
                    }), TOLERANCE);
        }
        double dTau = numericDerivative(x -> loss.value(Temperature.of(x), batches), 0.3);
        assertEquals(dTau, r.gradTemperature(), TOLERANCE * Math.abs(dTau), "dL/dtau");
    }

    @Test
    void cosineInfoNceBothForms() {
        Random random = new Random(300);
        INDArray a = gaussian(random, 4, 5);
        INDArray x = gaussian(random, 4, 5);
        CosineInfoNce loss = new CosineInfoNce(0.1);
        Temperature t = Temperature.of(0.5);
        LossResult r = loss.compute(t, a, x);
        assertEquals(r.loss(), loss.value(t, a, x), 1e-14 * r.loss(), "value = compute(…).loss()");
        assertArrayClose("anchor", r.gradAnchor(), numericGradient(a, v -> loss.value(t, v, x)), TOLERANCE);
        assertArrayClose("candidate", r.gradCandidates().get(0), numericGradient(x, v -> loss.value(t, a, v)),
                TOLERANCE);
        assertEquals(numericDerivative(v -> loss.value(Temperature.of(v), a, x), 0.5), r.gradTemperature(), 1e-6);

        INDArray ga = gaussian(random, 8, 5);
        INDArray gx = gaussian(random, 8, 5);
        LossResult g = loss.compute(t, GatheredBatches.of(a, List.of(x), ga, List.of(gx), 4), true);
        assertEquals(g.loss(), loss.value(t, GatheredBatches.of(a, List.of(x), ga, List.of(gx), 4)), 1e-14 * g.loss(),
                "value = compute(…).loss()");
        ToDoubleFunction<GatheredBatches> value = b -> loss.value(t, b);
        assertArrayClose("gathered anchor", g.gradGatheredAnchor(),
                numericGradient(ga, v -> value.applyAsDouble(GatheredBatches.of(a, List.of(x), v, List.of(gx), 4))),
                TOLERANCE);
        assertArrayClose("gathered candidate", g.gradGatheredCandidates().get(0),
                numericGradient(gx, v -> value.applyAsDouble(GatheredBatches.of(a, List.of(x), ga, List.of(v), 4))),
                TOLERANCE);
        assertArrayClose("local candidate", g.gradCandidates().get(0),
                numericGradient(x, v -> value.applyAsDouble(GatheredBatches.of(a, List.of(v), ga, List.of(gx), 4))),
                TOLERANCE);
    }

    @Test
    void oneProcessGradientsAreLocalPlusGatheredGradientsOfTheSameTensors() {
        // GRAM on one GPU: the gathered copies are the local tensors, so full autograd = local + gathered parts.
        Random random = new Random(400);
        INDArray a = gaussian(random, 6, 8);
        List<INDArray> xs = List.of(gaussian(random, 6, 8), gaussian(random, 6, 8));
        Temperature t = Temperature.of(0.07);
        LossResult full = new GramLoss().compute(t, a, xs.toArray(INDArray[]::new));
        LossResult split = new GramLoss().compute(t, GatheredBatches.of(a, xs, a, xs, 0), true);
        assertEquals(full.loss(), split.loss(), 1e-14);
        assertArrayClose("anchor", full.gradAnchor(), split.gradAnchor().add(split.gradGatheredAnchor()), 1e-12);
        for (int m = 0; m < 2; m++) {
            assertArrayClose("candidates[" + m + "]", full.gradCandidates().get(m),
                    split.gradCandidates().get(m).add(split.gradGatheredCandidates().get(m)), 1e-12);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void degenerateTuplesGiveFiniteGradients(DataType type) {
        Random random = new Random(500);
        int bs = 6;
        INDArray a = gaussian(random, bs, 8).castTo(type);
        INDArray x1 = gaussian(random, bs, 8).castTo(type);
        INDArray x2 = gaussian(random, bs, 8).castTo(type);
        a.getRow(0).assign(0);                                    // a zero vector
        x2.getRow(1).assign(x1.getRow(1));                        // duplicated modalities
        a.getRow(2).assign(x1.getRow(2).mul(0.4).add(x2.getRow(2).mul(-1.3)));   // anchor in the span
        x1.getRow(3).assign(0);                                   // a zero candidate
        x2.getRow(4).assign(x1.getRow(4).mul(-2));                // collinear candidates
        for (Temperature t : new Temperature[] {Temperature.of(0.07), Temperature.fromLogitScale(Math.log(1 / 0.07))}) {
            LossResult r = new GramLoss().compute(t, a, x1, x2);
            assertTrue(Double.isFinite(r.loss()));
            assertTrue(Double.isFinite(r.gradTemperature()));
            assertAllFinite("anchor", r.gradAnchor());
            assertAllFinite("x1", r.gradCandidates().get(0));
            assertAllFinite("x2", r.gradCandidates().get(1));
            LossResult g = new GramLoss().compute(t, GatheredBatches.of(a, List.of(x1, x2), a, List.of(x1, x2), 0), true);
            assertAllFinite("gathered anchor", g.gradGatheredAnchor());
            assertAllFinite("gathered x1", g.gradGatheredCandidates().get(0));
            assertAllFinite("gathered x2", g.gradGatheredCandidates().get(1));
        }
        // a degenerate pair's exact zero vector contributes no gradient to itself
        LossResult r = new GramLoss().compute(Temperature.of(0.07), a, x1, x2);
        assertEquals(0.0, r.gradAnchor().getRow(0).norm2Number().doubleValue(), 0.0, "zero anchor row");
    }
}
