/**
 * The {@code gram} command line ({@code bin/gram}): {@link io.github.gram4j.cli.GramCli} is the
 * top command, one class per subcommand ({@link io.github.gram4j.cli.VolumeCommand}, …).
 *
 * <p>Exit codes: 0 success, 1 internal error, 2 bad input or usage. Every failure prints exactly one
 * line starting with {@code error: } on stderr; stdout carries only requested output (help,
 * version).
 */
package io.github.gram4j.cli;
