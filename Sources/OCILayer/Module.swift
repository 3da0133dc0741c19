// placeholder module file; filled in by later work
