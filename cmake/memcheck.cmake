# cmake -P script: run each program in BINS under Valgrind memcheck, as
# many at once as there are cores (xargs -P; Valgrind runs one thread of a
# program at a time, so one program per core). Fails on any memory error or
# definite leak; logs in LOGDIR.
file(REMOVE_RECURSE ${LOGDIR})
file(MAKE_DIRECTORY ${LOGDIR})
cmake_host_system_information(RESULT jobs QUERY NUMBER_OF_LOGICAL_CORES)
if(NOT jobs OR jobs LESS 1)
  set(jobs 1)
endif()
set(list "")
set(n 0)
foreach(bin ${BINS})
  string(APPEND list "${bin}\n")
  math(EXPR n "${n} + 1")
endforeach()
file(WRITE ${LOGDIR}/programs "${list}")
# Each program: its log, and its name in 'failed' if Valgrind says so.
set(one "name=$(basename \"$1\"); \"${VALGRIND}\" --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite --show-leak-kinds=definite --log-file=\"${LOGDIR}/$name.log\" \"$1\" \
>/dev/null 2>&1 || echo \"$name (exit $?, see ${LOGDIR}/$name.log)\" >> \"${LOGDIR}/failed\"")
execute_process(COMMAND xargs -P ${jobs} -I @ sh -c "${one}" sh @
                INPUT_FILE ${LOGDIR}/programs RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "memcheck: xargs failed (${rc})")
endif()
if(EXISTS ${LOGDIR}/failed)
  file(READ ${LOGDIR}/failed bad)
  message(FATAL_ERROR "memcheck: failures in:\n${bad}")
endif()
message(STATUS "memcheck: ${n} test programs clean (${jobs} at a time)")
