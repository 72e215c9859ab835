build/obj/libcommon/log.o: libcommon/log.c libcommon/include/mlpipe/log.h \
 libcommon/include/mlpipe/err.h
libcommon/include/mlpipe/log.h:
libcommon/include/mlpipe/err.h:
