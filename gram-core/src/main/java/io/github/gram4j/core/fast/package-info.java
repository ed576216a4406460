/** The GEMM-based volume kernel and the per-candidate orthonormal bases it (and the loss) use. */
package io.github.gram4j.core.fast;
