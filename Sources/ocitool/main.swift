import OCICommands

OCIToolMain.main()
