import OCICommands

OCIToolCommand.main()
