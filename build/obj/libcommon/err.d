build/obj/libcommon/err.o: libcommon/err.c libcommon/include/mlpipe/err.h
libcommon/include/mlpipe/err.h:
