module early.segcast/locale

go 1.26
