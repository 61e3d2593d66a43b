// Package bench holds what the benchmarks in the other packages share; the
// numbers they produce are in README.md beside this file.
package bench
