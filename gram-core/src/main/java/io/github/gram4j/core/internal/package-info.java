/** Workspaces and row kernels shared by gram4j modules; not a public API. */
package io.github.gram4j.core.internal;
