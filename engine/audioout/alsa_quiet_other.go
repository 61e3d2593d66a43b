//go:build !linux

package audioout

func quietALSA() {}
