# CTest native/broken-corpus-regenerates: runs make-broken-models into a fresh directory and
# checks that it writes exactly the committed corpus — every generated file identical, byte for
# byte, to the committed one, and every committed .hunch file generated.
#
#   cmake -DGENERATOR=<hunch_make_broken_models> -DCORPUS=<tests/data/broken> -DOUT=<scratch dir>
#         -P tests/gen/check-broken-corpus.cmake
#
# OUT is emptied first and removed when everything matches (kept for a look when not).
foreach (var GENERATOR CORPUS OUT)
  if (NOT DEFINED ${var})
    message(FATAL_ERROR "check-broken-corpus: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")
execute_process(COMMAND "${GENERATOR}" "${OUT}" RESULT_VARIABLE rc)
if (NOT rc EQUAL 0)
  message(FATAL_ERROR "check-broken-corpus: ${GENERATOR} ${OUT} failed (${rc})")
endif()

file(GLOB generated RELATIVE "${OUT}" "${OUT}/*")
file(GLOB committed RELATIVE "${CORPUS}" "${CORPUS}/*.hunch")
list(LENGTH generated n_generated)
if (n_generated EQUAL 0)
  message(FATAL_ERROR "check-broken-corpus: the generator wrote nothing into ${OUT}")
endif()

set(problems "")
foreach (name IN LISTS generated)
  if (NOT EXISTS "${CORPUS}/${name}")
    string(APPEND problems "\n  ${name}: generated, not in ${CORPUS}")
    continue()
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${OUT}/${name}" "${CORPUS}/${name}"
                  RESULT_VARIABLE differs)
  if (NOT differs EQUAL 0)
    string(APPEND problems "\n  ${name}: the committed file differs from the generated one")
  endif()
endforeach()
foreach (name IN LISTS committed)
  if (NOT EXISTS "${OUT}/${name}")
    string(APPEND problems "\n  ${name}: committed, not generated")
  endif()
endforeach()

if (problems)
  message(FATAL_ERROR "check-broken-corpus: tests/data/broken is not what tests/gen/make-broken-models.cpp writes "
                      "(generated files kept in ${OUT}):${problems}\n"
                      "Regenerate with: cmake --build build/native --target hunch_make_broken_models && "
                      "build/native/hunch_make_broken_models tests/data/broken")
endif()
list(LENGTH committed n_committed)
message(STATUS "check-broken-corpus: ${n_generated} generated files, all identical to the ${n_committed} committed ones")
file(REMOVE_RECURSE "${OUT}")
