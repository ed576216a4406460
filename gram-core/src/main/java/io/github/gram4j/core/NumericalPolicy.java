package io.github.gram4j.core;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * The numerical constants every gram4j module computes with, in one place: the degenerate floor
 * {@code η} of the volume gradients and the smallest normal number of a computation dtype.
 *
 * <p><b>Degenerate floor.</b> The gradient of a volume {@code V = ρ·sqrt(s)} divides by
 * {@code sqrt(s)} and by the Gram–Schmidt lengths {@code ρ}; at a degenerate tuple these are 0.
 * Below {@code s ≥ η·|a|²} and {@code ρ ≥ √η·|x|} the gradient is damped (the floor is taken
 * instead of the value); above it the gradient is exact. {@code η} is 64 units in the last place of
 * 1 in the computation dtype: 1.4e-14 in DOUBLE, 7.6e-6 in FLOAT (HALF and BFLOAT16 compute in
 * FLOAT). gram-loss's analytic gradients ({@code VolumeTape}) and gram-samediff's graphs use the
 * same {@code η}, so both give the same gradients.
 */
public final class NumericalPolicy {

    private NumericalPolicy() {
    }

    /**
     * {@code η} of a computation dtype: {@code 64·ulp(1)}.
     *
     * @param type the computation dtype: DOUBLE gives the double {@code η}, any other the float one
     * @return 1.4e-14 for DOUBLE, 7.6e-6 otherwise
     * @throws IllegalArgumentException if {@code type} is null
     */
    public static double degenerateFloor(DataType type) {
        return 64 * (requireType(type) == DataType.DOUBLE ? Math.ulp(1.0) : Math.ulp(1.0f));
    }

    /**
     * The smallest positive normal number of a computation dtype, added where a floor must stay
     * positive even for an all-zero row.
     *
     * @param type the computation dtype: DOUBLE gives {@link Double#MIN_NORMAL}, any other
     *     {@link Float#MIN_NORMAL}
     * @return the smallest positive normal number of that dtype
     * @throws IllegalArgumentException if {@code type} is null
     */
    public static double tiny(DataType type) {
        return requireType(type) == DataType.DOUBLE ? Double.MIN_NORMAL : Float.MIN_NORMAL;
    }

    private static DataType requireType(DataType type) {
        if (type == null) {
            throw new IllegalArgumentException("type must not be null");
        }
        return type;
    }
}
