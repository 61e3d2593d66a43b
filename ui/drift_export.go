package ui

import "github.com/sqweek/dialog"

// pickReportFolder shows the native folder picker for an export.
func pickReportFolder() (string, error) {
	return dialog.Directory().Title("Export A/V sync report to folder").Browse()
}
