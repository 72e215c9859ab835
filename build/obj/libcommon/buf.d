build/obj/libcommon/buf.o: libcommon/buf.c libcommon/include/mlpipe/buf.h \
 libcommon/include/mlpipe/err.h
libcommon/include/mlpipe/buf.h:
libcommon/include/mlpipe/err.h:
