// Package locale lets Fyne parse the locale of systems set to C.UTF-8.
//
// Fyne's lang package reads the locale in its init. For C.UTF-8 (the
// default of containers, CI and minimal installs) it takes "C" as a
// language tag and logs three lines of "Error parsing user locale C",
// which would break the CLI's promise of one clear line on stderr. Setting
// LANGUAGE (read only for message catalogs, and ignored by the C library
// while the locale is C) gives it English, which is what C means.
//
// Go initialises packages in import path order where dependencies allow,
// so this package's path sorts before "fyne.io/…" and its init runs first;
// it is a tiny module of its own for that reason, replaced from ./ui/locale
// in go.mod.
package locale

import (
	"os"
	"strings"
)

func init() {
	if os.Getenv("LANGUAGE") != "" {
		return
	}
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(name); v != "" {
			if strings.HasPrefix(v, "C.") {
				os.Setenv("LANGUAGE", "en")
			}
			return // the first one set is the one in force
		}
	}
}
