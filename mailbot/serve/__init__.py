"""``mailbot serve`` and what runs under it: the supervisor (parent process), the processing
child with its intake worker and schedule, the Postfix socketmap, the pid file and ``check``."""
