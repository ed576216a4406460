/** The seed's determinant formula over the explicit Gram tensor: the reference for tests and small inputs. */
package io.github.gram4j.core.reference;
