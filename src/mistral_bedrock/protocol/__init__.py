"""Wire protocol pieces shared by the client and the runtime. Standard library only."""
