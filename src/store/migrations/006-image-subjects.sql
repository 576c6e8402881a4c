-- Concord project store, version 6: an image list may name each image's subject (the person, or
-- the video an image was cut from). A cross-fit deals an image list's subjects to folds whole, so
-- no fold is judged on a face it trained on (images of one person sit close; dealt one by one, a
-- fold memorises a mislabelled run of them through the neighbours it saw). NULL: no subject given
-- (every video frame, and image lists without the column), images then dealt one by one.

ALTER TABLE frames ADD COLUMN subject TEXT;
