"""OT — OTP / BEAM runtime: unsupervised processes, atom leaks, bottlenecks."""
